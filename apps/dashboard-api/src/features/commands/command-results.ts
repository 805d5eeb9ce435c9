// Comparing an agent's repeated result with the stored one: jsonb does not keep key order, so
// both sides are compared in a canonical form (keys sorted at every depth).
import type { Command } from '../../generated/prisma/client.ts';

export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).sort().map((key) => [key, sortKeys((value as Record<string, unknown>)[key])]));
  }
  return value;
}

export function sameResult(stored: Pick<Command, 'status' | 'result' | 'error'>, sent: { status: string; result?: unknown; error?: string }): boolean {
  return (
    stored.status === sent.status &&
    (stored.error ?? null) === (sent.error ?? null) &&
    canonicalJson(stored.result ?? null) === canonicalJson(sent.result ?? null)
  );
}
