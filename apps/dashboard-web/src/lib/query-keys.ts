// One place for query keys, so mutations and the event stream invalidate the right views.
// Everything of an organization lives under ['org', orgId, …]: switching organizations never
// shows another organization's cached rows, and `resync` refetches one prefix. No imports: the
// API's tests load this file (through event-keys.ts) under Node.

export const queryKeys = {
  session: ['session'] as const,
  orgs: ['orgs'] as const,
  org: (orgId: string) => ['org', orgId] as const,
  /** Every dongle query of the organization (lists, details, their configs and commands). */
  dongles: (orgId: string) => ['org', orgId, 'dongles'] as const,
  dongleLists: (orgId: string) => ['org', orgId, 'dongles', 'list'] as const,
  dongleList: (orgId: string, selector: string) => ['org', orgId, 'dongles', 'list', selector] as const,
  dongle: (orgId: string, id: string) => ['org', orgId, 'dongles', id] as const,
  canConfig: (orgId: string, id: string) => ['org', orgId, 'dongles', id, 'can-config'] as const,
  commands: (orgId: string, dongleId: string) => ['org', orgId, 'dongles', dongleId, 'commands'] as const,
  discovered: (orgId: string) => ['org', orgId, 'discovered'] as const,
  agents: (orgId: string) => ['org', orgId, 'agents'] as const,
  groups: (orgId: string) => ['org', orgId, 'groups'] as const,
  members: (orgId: string) => ['org', orgId, 'members'] as const,
  invitations: (orgId: string) => ['org', orgId, 'invitations'] as const,
  apiKeys: (orgId: string) => ['org', orgId, 'api-keys'] as const,
  jobs: (orgId: string) => ['org', orgId, 'jobs'] as const,
  jobList: (orgId: string) => ['org', orgId, 'jobs', 'list'] as const,
  job: (orgId: string, id: string) => ['org', orgId, 'jobs', id] as const,
  jobExecutions: (orgId: string, id: string) => ['org', orgId, 'jobs', id, 'executions'] as const,
  firmware: (orgId: string) => ['org', orgId, 'firmware'] as const,
  mySessions: ['me', 'sessions'] as const,
  users: (query: object) => ['admin', 'users', query] as const,
  audit: (filters: object) => ['admin', 'audit', filters] as const,
};
