// The one writer of the audit log. Callers pass the transaction of the change they audit (a
// Prisma `tx` or a pg client: any `Db`), so the change and its row commit together or not at all.
// Every row is built by auditRow(): details scrubbed, the user agent cut, the organization
// resolved — whichever path writes it (recordAudit, recordAudits, or a statement that embeds auditValues(), login's CTE).
import type { Request } from 'express';
import { sql, type Db } from '../database.ts';
import type { AuditAction, AuditDetails } from './audit-actions.ts';
import { scrubSecrets } from './scrub-secrets.ts';

export { AUDIT_ACTIONS, type AuditAction } from './audit-actions.ts';
export { scrubSecrets } from './scrub-secrets.ts';

export type Actor = { type: 'user'; id: string } | { type: 'agent'; id: string } | { type: 'system'; id?: null };

export type AuditResult = 'success' | 'failure' | 'denied';

/** The longest user agent kept (audit rows, sessions): longer ones are cut, not refused. */
export const USER_AGENT_MAX = 512;

export const userAgentOf = (req: Request): string | null => req.get('user-agent')?.slice(0, USER_AGENT_MAX) ?? null;

export interface RequestContext {
  ip: string | null;
  userAgent: string | null;
  /** The organization the request acts in (organization routes, agents), for the org audit log. */
  organizationId?: string | null;
  /** Set when an API key authenticated the request: every change it makes names the key. */
  apiKeyId?: string | null;
}

export type FieldChanges = Record<string, { from: unknown; to: unknown }>;

export interface AuditEvent<A extends AuditAction = AuditAction> {
  actor: Actor;
  action: A;
  targetType?: string;
  targetId?: string | null;
  result?: AuditResult;
  /** Never secrets: keys that look like one are dropped before the write. */
  details?: AuditDetails<A>;
  /** For updates: the changed fields, from `changes(before, after)`; stored as `details.changes`. */
  changes?: FieldChanges;
  context?: RequestContext;
  /** The organization the change belongs to, when not the request's (e.g. accepting an invitation). */
  organizationId?: string | null;
}

// What the request scopes put on res.locals (features/organizations/org-scope.ts, the agent
// guard); read structurally so this module depends on no feature.
interface ScopedLocals {
  org?: { orgId?: string; apiKeyId?: string | null };
  agent?: { organizationId?: string | null };
}

export function requestContext(req: Request): RequestContext {
  const locals = req.res?.locals as ScopedLocals | undefined;
  const organizationId = locals?.org?.orgId ?? locals?.agent?.organizationId ?? null;
  const apiKeyId = locals?.org?.apiKeyId ?? null;
  return {
    ip: req.ip ?? null,
    userAgent: userAgentOf(req),
    ...(organizationId ? { organizationId } : {}),
    ...(apiKeyId ? { apiKeyId } : {}),
  };
}

/** The columns of an audit row, in the order of auditRow()'s values. */
export const AUDIT_COLUMNS = 'actor_type, actor_id, action, target_type, target_id, result, ip, user_agent, details, organization_id, created_at';

/**
 * The VALUES of one audit row with its parameters numbered from `first` (for a statement that
 * writes the row alongside its change, e.g. login's CTE). created_at is clock_timestamp(): rows
 * of one transaction keep the order they were written in.
 */
export const auditValues = (first: number): string => {
  const p = (i: number) => `$${first + i}`;
  return `${p(0)}::actor_type, ${p(1)}::uuid, ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)}, ${p(6)}, ${p(7)}, ${p(8)}::jsonb, ${p(9)}::uuid, clock_timestamp()`;
};

/** One audit row from auditRow()'s values (exported for the bench baseline). */
export const INSERT_AUDIT = `INSERT INTO audit_logs (${AUDIT_COLUMNS}) VALUES (${auditValues(1)})`;

/** The parameters of one audit row (the order of AUDIT_COLUMNS): scrubbed, cut, attributed. */
export function auditRow<A extends AuditAction>(event: AuditEvent<A>): unknown[] {
  let details: Record<string, unknown> | undefined =
    event.changes && Object.keys(event.changes).length > 0 ? { ...event.details, changes: event.changes } : event.details;
  // Attribution of a change made with an API key: the user is the actor, the key is named
  // (`actorKeyId`: a key name with "apiKey" in it would be taken for a secret and dropped).
  if (event.context?.apiKeyId) details = { ...details, actorKeyId: event.context.apiKeyId };
  return [
    event.actor.type,
    event.actor.id ?? null,
    event.action,
    event.targetType ?? null,
    event.targetId ?? null,
    event.result ?? 'success',
    event.context?.ip ?? null,
    event.context?.userAgent?.slice(0, USER_AGENT_MAX) ?? null,
    details ? JSON.stringify(scrubSecrets(details)) : null,
    event.organizationId !== undefined ? event.organizationId : (event.context?.organizationId ?? null),
  ];
}

export async function recordAudit<A extends AuditAction>(db: Db, event: AuditEvent<A>): Promise<void> {
  await sql(db, INSERT_AUDIT, auditRow(event));
}

/** Rows per statement of recordAudits: 10 parameters a row, well under PostgreSQL's 65,535. */
const AUDIT_BATCH = 1000;

/** Many audit rows (each through auditRow()) in one statement per thousand, e.g. a bulk cancel. */
export async function recordAudits<A extends AuditAction>(db: Db, events: readonly AuditEvent<A>[]): Promise<void> {
  for (let start = 0; start < events.length; start += AUDIT_BATCH) {
    const batch = events.slice(start, start + AUDIT_BATCH);
    const values = batch.map((_, i) => `(${auditValues(1 + i * 10)})`).join(', ');
    await sql(db, `INSERT INTO audit_logs (${AUDIT_COLUMNS}) VALUES ${values}`, batch.flatMap((event) => auditRow(event)));
  }
}

const sameValue = (a: unknown, b: unknown): boolean => {
  if (a === b) return true;
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime();
  // Json columns and arrays: compare by content, not by reference.
  if (a && b && typeof a === 'object' && typeof b === 'object') return JSON.stringify(a) === JSON.stringify(b);
  return false;
};

/** Changed fields of an update as {field: {from, to}}, for the audit row's details. */
export function changes<T extends Record<string, unknown>>(before: T, after: Partial<T>): FieldChanges {
  const diff: FieldChanges = {};
  for (const [key, value] of Object.entries(after)) {
    if (value !== undefined && !sameValue(before[key], value)) diff[key] = { from: before[key] ?? null, to: value };
  }
  return diff;
}
