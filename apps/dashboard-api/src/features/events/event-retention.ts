// Retention: events older than EVENT_RETENTION_DAYS are deleted in batches (one short
// transaction each, so pruning never holds long locks), oldest ids first. The highest deleted id
// is kept in event_retention_mark: a stream resumed from an id below it may have missed events
// and gets `resync` (event-stream.ts). Finished webhook deliveries (and their attempt logs) of
// the same age go too.
import type { Database } from '../../platform/database.ts';
import { periodicWorker, type BackgroundWorker } from '../../platform/lifecycle.ts';
import type { Logger } from '../../platform/logger.ts';

export const PRUNE_BATCH = 5_000;

const PRUNE_EVENTS_SQL = `
WITH doomed AS (
  SELECT id FROM events WHERE created_at < now() - make_interval(secs => $1::double precision)
   ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED
), gone AS (
  DELETE FROM events e USING doomed d WHERE e.id = d.id RETURNING e.id
), mark AS (
  INSERT INTO event_retention_mark AS m (id, pruned_through, updated_at)
  SELECT 1, max(id), now() FROM gone HAVING count(*) > 0
  ON CONFLICT (id) DO UPDATE SET pruned_through = GREATEST(m.pruned_through, EXCLUDED.pruned_through), updated_at = now()
)
SELECT count(*)::int AS n FROM gone`;

const PRUNE_DELIVERIES_SQL = `
DELETE FROM webhook_deliveries WHERE id IN (
  SELECT id FROM webhook_deliveries
   WHERE status <> 'pending' AND created_at < now() - make_interval(secs => $1::double precision)
   LIMIT $2 FOR UPDATE SKIP LOCKED)`;

/** Deletes every event (and finished delivery) older than `retentionMs`; returns the events deleted. */
export async function pruneEvents(db: Database, retentionMs: number, batch = PRUNE_BATCH): Promise<number> {
  let total = 0;
  for (;;) {
    const { rows } = await db.pool.query<{ n: number }>(PRUNE_EVENTS_SQL, [retentionMs / 1000, batch]);
    total += rows[0]!.n;
    if (rows[0]!.n < batch) break;
  }
  for (;;) {
    const { rowCount } = await db.pool.query(PRUNE_DELIVERIES_SQL, [retentionMs / 1000, batch]);
    if ((rowCount ?? 0) < batch) break;
  }
  return total;
}

export function createEventPruner(deps: { db: Database; logger: Logger; retentionMs: number; intervalMs: number }): BackgroundWorker {
  return periodicWorker({
    name: 'event-retention',
    intervalMs: deps.intervalMs,
    work: async () => {
      const pruned = await pruneEvents(deps.db, deps.retentionMs);
      if (pruned > 0) deps.logger.info({ pruned }, 'events pruned');
    },
    logger: deps.logger,
  });
}
