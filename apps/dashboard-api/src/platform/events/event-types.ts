// Every event type the log carries, with its subject type. doc/events.md describes each payload.
export const EVENT_TYPES = {
  'dongle.discovered': 'dongle',
  'dongle.online': 'dongle',
  'dongle.offline': 'dongle',
  'dongle.state_changed': 'dongle',
  'dongle.renamed': 'dongle',
  'can_config.updated': 'dongle',
  'can_config.applied': 'dongle',
  'command.created': 'command',
  'command.delivered': 'command',
  'command.succeeded': 'command',
  'command.failed': 'command',
  'command.expired': 'command',
  'command.timed_out': 'command',
  'command.cancelled': 'command',
  'agent.enrolled': 'agent',
  'agent.online': 'agent',
  'agent.offline': 'agent',
  'agent.deleted': 'agent',
  'group.created': 'group',
  'group.updated': 'group',
  'group.deleted': 'group',
  'member.added': 'member',
  'member.role_changed': 'member',
  'member.removed': 'member',
  'webhook.disabled': 'webhook',
  'alert.triggered': 'alert',
  'alert.resolved': 'alert',
  // Fleet jobs (doc/jobs.md#events).
  'job.created': 'job',
  'job.started': 'job',
  'job.paused': 'job',
  'job.resumed': 'job',
  'job.stage_advanced': 'job',
  'job.completed': 'job',
  'job.aborted': 'job',
  'job.cancelled': 'job',
  /** One execution changed state (hand-out, result, skip). */
  'job.execution_updated': 'job_execution',
  /** Many executions changed state at once (start-time skips, deadline, abort, cancel): a count. */
  'job.executions_updated': 'job',
} as const;

export type EventType = keyof typeof EVENT_TYPES;
export type SubjectType = (typeof EVENT_TYPES)[EventType];

export const EVENT_TYPE_NAMES = Object.keys(EVENT_TYPES) as EventType[];
export const SUBJECT_TYPES = [...new Set(Object.values(EVENT_TYPES))] as SubjectType[];
