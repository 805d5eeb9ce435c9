// Applies the two timers when no request touches a command: QUEUED past expires_at → EXPIRED,
// DELIVERED past delivered_at + timeout_seconds → TIMED_OUT. Safe on several instances at once:
// each batch is one UPDATE over rows it locks with SKIP LOCKED, guarded by the status it
// changes, so two sweepers (or a sweeper and a result post) never both apply a transition.
// Each batch writes one audit row listing the commands it changed. The ORDER BY (and the
// redundant 1-second bound, the shortest timeout) steer both scans onto the (status, expires_at)
// and (status, delivered_at) indexes, oldest first.
import type { Database } from '../../platform/database.ts';
import { periodicWorker, type BackgroundWorker } from '../../platform/lifecycle.ts';
import type { Logger } from '../../platform/logger.ts';
import { recordAudit } from '../audit/audit.writer.ts';

const BATCH = 500;

export const EXPIRE_SQL = `
UPDATE commands SET status = 'EXPIRED', error = 'not picked up within its TTL', completed_at = now(), updated_at = now()
 WHERE id IN (SELECT id FROM commands WHERE status = 'QUEUED' AND expires_at <= now()
              ORDER BY expires_at LIMIT ${BATCH} FOR UPDATE SKIP LOCKED)
   AND status = 'QUEUED'
RETURNING id`;

export const TIME_OUT_SQL = `
UPDATE commands SET status = 'TIMED_OUT', error = 'no result within the execution timeout', completed_at = now(), updated_at = now()
 WHERE id IN (SELECT id FROM commands
               WHERE status = 'DELIVERED' AND delivered_at + make_interval(secs => timeout_seconds) <= now()
                 AND delivered_at <= now() - interval '1 second'
               ORDER BY delivered_at LIMIT ${BATCH} FOR UPDATE SKIP LOCKED)
   AND status = 'DELIVERED'
RETURNING id`;

export interface SweepResult {
  expired: number;
  timedOut: number;
}

/** One full sweep (every overdue command, in batches). Exposed for tests and the bench. */
export async function sweepCommands(db: Database): Promise<SweepResult> {
  const result: SweepResult = { expired: 0, timedOut: 0 };
  for (const [sql, action, key] of [
    [EXPIRE_SQL, 'command.expire', 'expired'],
    [TIME_OUT_SQL, 'command.timeout', 'timedOut'],
  ] as const) {
    for (;;) {
      const ids = await db.prisma.$transaction(async (tx) => {
        const rows = await tx.$queryRawUnsafe<{ id: string }[]>(sql);
        if (rows.length > 0) {
          await recordAudit(tx, { actor: { type: 'system' }, action, targetType: 'command', details: { count: rows.length, commandIds: rows.map((r) => r.id) } });
        }
        return rows;
      });
      result[key] += ids.length;
      if (ids.length < BATCH) break;
    }
  }
  return result;
}

export function createCommandSweeper(options: { db: Database; logger: Logger; intervalMs: number }): BackgroundWorker {
  return periodicWorker({
    name: 'command-sweeper',
    intervalMs: options.intervalMs,
    work: async () => {
      const swept = await sweepCommands(options.db);
      if (swept.expired || swept.timedOut) options.logger.info(swept, 'command sweep');
    },
    onError: (error) => options.logger.warn({ err: (error as Error).message }, 'command sweep failed; retrying next interval'),
  });
}
