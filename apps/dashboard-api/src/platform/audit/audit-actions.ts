// Every audit action the product writes, as one list: recordAudit() accepts only these (a typo is
// a compile error, and a reader sees the whole vocabulary of the log in one place). Dotted
// `<subject>.<verb>`; an action's details have a type of their own where callers agree on one.

export const AUDIT_ACTIONS = [
  // accounts and sessions
  'auth.signup', 'auth.login', 'auth.logout', 'auth.email_verify', 'auth.password_change',
  'auth.password_reset_request', 'auth.password_reset', 'session.revoke', 'session.revoke_others',
  'user.update', 'admin.user_update', 'admin.access_denied', 'admin.bootstrap.create', 'admin.bootstrap.promote',
  // organizations
  'organization.create', 'organization.update', 'organization.delete', 'organization.transfer',
  'organization.access_denied', 'organization.member.add', 'organization.member.role',
  'organization.member.leave', 'organization.member.remove', 'organization.invitation.create',
  'organization.invitation.resend', 'organization.invitation.revoke', 'organization.invitation.accept',
  'organization.api_key.create', 'organization.api_key.revoke',
  // agents and dongles
  'agent.enroll', 'agent.update', 'agent.delete', 'agent.enrollment_code.create', 'agent.token.rotate',
  'dongle.discover', 'dongle.claim', 'dongle.claim_lapse', 'dongle.token.exchange', 'dongle.token.ack',
  'dongle.release', 'dongle.release.ack', 'dongle.force_release', 'dongle.update',
  'dongle.tag.set', 'dongle.tag.remove', 'dongle.tag.bulk', 'dongle_tokens.rotate',
  'group.create', 'group.update', 'group.delete', 'can_config.update',
  // commands and jobs
  'command.create', 'command.cancel', 'command.result', 'command.expire', 'command.timeout',
  'job.create', 'job.start', 'job.pause', 'job.resume', 'job.cancel', 'job.abort', 'job.complete', 'job.stage.advance',
  // integrations, firmware, operations
  'webhook.create', 'webhook.update', 'webhook.delete', 'webhook.disable', 'webhook.test', 'webhook.rotate_secret',
  'alert_rule.create', 'alert_rule.delete',
  'firmware.upload', 'firmware.signing_key.register', 'firmware.signing_key.revoke',
  'audit.export', 'audit.prune', 'dev.seed',
] as const;

export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** Details with a fixed shape, per action; other actions take any (scrubbed) object. */
export interface AuditDetailsByAction {
  'auth.login': { rehashed: true };
  'command.expire': { dongleId: string };
  'command.timeout': { dongleId: string };
  'command.cancel': { dongleId: string; type: string; reason?: string; jobId?: string };
  'command.create': { dongleId: string; type: string; ttlSeconds: number; jobId?: string };
}

export type AuditDetails<A extends AuditAction> = A extends keyof AuditDetailsByAction ? AuditDetailsByAction[A] : Record<string, unknown>;
