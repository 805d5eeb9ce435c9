// Presence as events: agent.online / agent.offline and dongle.online / dongle.offline, once per
// transition, however many API instances run this worker.
//
// `online` is a persisted flag that only this worker changes. Each pass flips, under FOR UPDATE
// SKIP LOCKED and guarded by the flag's current value, the rows whose flag disagrees with their
// last_seen_at (online = seen within twice the poll interval), and writes one event per flipped
// row in the same transaction. Two instances cannot both flip a row: one holds its lock, and the
// other's guard re-reads the committed flag and no longer matches. A restart changes nothing
// (the flag survives it), so it emits no flap; a crash mid-pass rolls the batch back whole.
import type pg from 'pg';
import { inPgTransaction, type Database } from '../../platform/database.ts';
import { periodicWorker, type BackgroundWorker } from '../../platform/lifecycle.ts';
import type { Logger } from '../../platform/logger.ts';
import { recordEvents } from '../../platform/events/event-writer.ts';

const BATCH = 500;

/** The rows whose flag is wrong, as a predicate over the columns of alias `t`. */
function mismatch(table: 'agents' | 'dongles', toOnline: boolean): string {
  const seen = `t.last_seen_at > now() - make_interval(secs => $1::double precision)`;
  const alive = table === 'agents' ? `${seen} AND t.revoked_at IS NULL` : seen;
  return toOnline ? `NOT t.online AND ${alive}` : `t.online AND NOT COALESCE(${alive}, false)`;
}

// The guard is evaluated twice: to pick candidates, and again on the locked row (READ COMMITTED
// re-checks it against the latest committed version), which is what stops a second flip.
const flipSql = (table: 'agents' | 'dongles', toOnline: boolean) => `
UPDATE ${table} t SET online = ${toOnline}
 WHERE t.id IN (SELECT t.id FROM ${table} t WHERE ${mismatch(table, toOnline)} ORDER BY t.id LIMIT ${BATCH} FOR UPDATE SKIP LOCKED)
   AND ${mismatch(table, toOnline)}
RETURNING t.id::text AS id, t.organization_id::text AS "organizationId", t.last_seen_at AS "lastSeenAt"`;

interface Flipped {
  id: string;
  organizationId: string | null;
  lastSeenAt: Date | null;
}

async function flip(client: pg.PoolClient, table: 'agents' | 'dongles', toOnline: boolean, windowSeconds: number): Promise<number> {
  const { rows } = await client.query<Flipped>(flipSql(table, toOnline), [windowSeconds]);
  const subject = table === 'agents' ? 'agent' : 'dongle';
  // An unclaimed dongle belongs to no organization: its flag moves, nobody is told.
  await recordEvents(
    client,
    rows.flatMap((row) =>
      row.organizationId
        ? [{ organizationId: row.organizationId, type: `${subject}.${toOnline ? 'online' : 'offline'}` as const, subjectId: row.id, data: { lastSeenAt: row.lastSeenAt?.toISOString() ?? null } }]
        : [],
    ),
  );
  return rows.length;
}

/** One full pass; returns how many rows changed. */
export async function applyPresence(db: Database, pollIntervalMs: number): Promise<number> {
  const windowSeconds = (2 * pollIntervalMs) / 1000;
  let total = 0;
  for (const table of ['agents', 'dongles'] as const) {
    for (const toOnline of [true, false]) {
      for (;;) {
        const n = await inPgTransaction(db.pool, (client) => flip(client, table, toOnline, windowSeconds));
        total += n;
        if (n < BATCH) break;
      }
    }
  }
  return total;
}

export function createPresenceWorker(deps: { db: Database; logger: Logger; pollIntervalMs: number; intervalMs: number }): BackgroundWorker {
  return periodicWorker({
    name: 'presence',
    intervalMs: deps.intervalMs,
    work: async () => {
      await applyPresence(deps.db, deps.pollIntervalMs);
    },
    onError: (error) => deps.logger.warn({ err: (error as Error).message }, 'presence pass failed; retrying next interval'),
  });
}
