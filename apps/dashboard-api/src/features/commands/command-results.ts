// Comparing an agent's repeated result with the stored one: jsonb does not keep key order, so
// both sides are compared as canonical JSON (keys sorted at every depth).
import type { Command } from '../../generated/prisma/client.ts';
import { canonicalJson } from '../../platform/canonical-json.ts';

export function sameResult(stored: Pick<Command, 'status' | 'result' | 'error'>, sent: { status: string; result?: unknown; error?: string }): boolean {
  return (
    stored.status === sent.status &&
    (stored.error ?? null) === (sent.error ?? null) &&
    canonicalJson(stored.result ?? null) === canonicalJson(sent.result ?? null)
  );
}
