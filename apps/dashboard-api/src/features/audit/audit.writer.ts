// Writes audit rows. Callers pass the transaction client of the change they audit, so the change
// and its row commit together or not at all.
import type { Request } from 'express';
import type { Prisma } from '../../generated/prisma/client.ts';
import type { Tx } from '../../platform/database.ts';

export type Actor = { type: 'user'; id: string } | { type: 'agent'; id: string } | { type: 'system'; id?: null };

export type AuditResult = 'success' | 'failure' | 'denied';

export interface RequestContext {
  ip: string | null;
  userAgent: string | null;
  /** The organization the request acts in (organization routes, agents), for the org audit log. */
  organizationId?: string | null;
  /** Set when an API key authenticated the request: every change it makes names the key. */
  apiKeyId?: string | null;
}

export type FieldChanges = Record<string, { from: unknown; to: unknown }>;

export interface AuditEvent {
  actor: Actor;
  /** dotted verb, e.g. "auth.login", "dongle.claim" */
  action: string;
  targetType?: string;
  targetId?: string | null;
  result?: AuditResult;
  /** Never secrets: keys that look like one are dropped before the write. */
  details?: Record<string, unknown>;
  /** For updates: the changed fields, from `changes(before, after)`; stored as `details.changes`. */
  changes?: FieldChanges;
  context?: RequestContext;
  /** The organization the change belongs to, when not the request's (e.g. accepting an invitation). */
  organizationId?: string | null;
}

// Keys whose values are secrets wherever they appear. Deliberately broad (a false positive only
// loses a detail), but anchored where a bare word would swallow ordinary fields: `hash` only as a
// suffix (so `rehashed` survives), `code` only for one-time codes (so `errorCode` survives).
const SECRET_KEY =
  /pass(word|phrase)?|token|secret|hash(es)?$|cookie|authorization|bearer|ciphertext|nonce|salt|credential|api_?key|private_?key|(encryption|signing|master)_?key|^key$|signature|csrf|session_?id|sid$|otp|totp|jwt|(^|enrollment|reset|verification|recovery|auth)_?code$/i;

const REDACTED = '[redacted]';

/** Secret-looking string values, whatever their key: auth headers, PEM keys, URL credentials. */
function scrubString(value: string): string {
  if (/^(bearer|basic)\s+\S/i.test(value) || /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(value)) return REDACTED;
  // postgres://user:password@host → postgres://user:[redacted]@host
  return value.replace(/(\/\/[^/:@\s]+:)[^/@\s]+@/g, `$1${REDACTED}@`);
}

/**
 * Drops secret-looking keys at any depth and redacts secret-looking values: a defence in depth,
 * not a licence to pass secrets. Also makes the value JSON-safe (bigint, binary, cycles).
 */
export function scrubSecrets(value: unknown, seen = new WeakSet<object>()): unknown {
  if (typeof value === 'string') return scrubString(value);
  if (typeof value === 'bigint') return value.toString();
  if (!value || typeof value !== 'object' || value instanceof Date) return value;
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return '[binary]';
  if (seen.has(value)) return '[circular]';
  seen.add(value);
  if (Array.isArray(value)) return value.map((inner) => scrubSecrets(inner, seen));
  return Object.fromEntries(
    Object.entries(value)
      .filter(([key]) => !SECRET_KEY.test(key))
      .map(([key, inner]) => [key, scrubSecrets(inner, seen)]),
  );
}

export function requestContext(req: Request): RequestContext {
  const locals = req.res?.locals;
  const organizationId = locals?.org?.orgId ?? locals?.agent?.organizationId ?? null;
  const apiKeyId = locals?.org?.apiKeyId ?? null;
  return {
    ip: req.ip ?? null,
    userAgent: req.get('user-agent')?.slice(0, 512) ?? null,
    ...(organizationId ? { organizationId } : {}),
    ...(apiKeyId ? { apiKeyId } : {}),
  };
}

export async function recordAudit(tx: Pick<Tx, 'auditLog'>, event: AuditEvent): Promise<void> {
  let details = event.changes && Object.keys(event.changes).length > 0 ? { ...event.details, changes: event.changes } : event.details;
  // Attribution of a change made with an API key: the user is the actor, the key is named
  // (`actorKeyId`: a key name with "apiKey" in it would be taken for a secret and dropped).
  if (event.context?.apiKeyId) details = { ...details, actorKeyId: event.context.apiKeyId };
  await tx.auditLog.create({
    data: {
      actorType: event.actor.type,
      actorId: event.actor.id ?? null,
      action: event.action,
      targetType: event.targetType ?? null,
      targetId: event.targetId ?? null,
      result: event.result ?? 'success',
      ip: event.context?.ip ?? null,
      userAgent: event.context?.userAgent?.slice(0, 512) ?? null,
      details: details ? (scrubSecrets(details) as Prisma.InputJsonValue) : undefined,
      organizationId: event.organizationId !== undefined ? event.organizationId : (event.context?.organizationId ?? null),
    },
  });
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
