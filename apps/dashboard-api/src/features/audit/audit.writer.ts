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
}

export interface AuditEvent {
  actor: Actor;
  /** dotted verb, e.g. "auth.login", "dongle.claim" */
  action: string;
  targetType?: string;
  targetId?: string | null;
  result?: AuditResult;
  /** Never secrets: keys that look like one are dropped before the write. */
  details?: Record<string, unknown>;
  context?: RequestContext;
}

const SECRET_KEY = /pass(word)?|token|secret|hash|cookie|authorization|ciphertext|nonce|sid$|^code$/i;

/** Drops secret-looking keys at any depth: a defence in depth, not a licence to pass secrets. */
export function scrubSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(scrubSecrets);
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    return Object.fromEntries(Object.entries(value).filter(([key]) => !SECRET_KEY.test(key)).map(([key, inner]) => [key, scrubSecrets(inner)]));
  }
  return value;
}

export function requestContext(req: Request): RequestContext {
  return { ip: req.ip ?? null, userAgent: req.get('user-agent')?.slice(0, 512) ?? null };
}

export async function recordAudit(tx: Pick<Tx, 'auditLog'>, event: AuditEvent): Promise<void> {
  await tx.auditLog.create({
    data: {
      actorType: event.actor.type,
      actorId: event.actor.id ?? null,
      action: event.action,
      targetType: event.targetType ?? null,
      targetId: event.targetId ?? null,
      result: event.result ?? 'success',
      ip: event.context?.ip ?? null,
      userAgent: event.context?.userAgent ?? null,
      details: event.details ? (scrubSecrets(event.details) as Prisma.InputJsonValue) : undefined,
    },
  });
}

/** Changed fields of an update as {field: {from, to}}, for the audit row's details. */
export function changes<T extends Record<string, unknown>>(before: T, after: Partial<T>): Record<string, { from: unknown; to: unknown }> {
  const diff: Record<string, { from: unknown; to: unknown }> = {};
  for (const [key, value] of Object.entries(after)) {
    if (value !== undefined && before[key] !== value) diff[key] = { from: before[key], to: value };
  }
  return diff;
}
