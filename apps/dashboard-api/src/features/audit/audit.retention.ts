// Retention: the one way rows leave audit_logs (run by `npm run audit:prune`). The table's
// trigger refuses UPDATE, TRUNCATE and any DELETE outside a transaction that has set
// fleet.audit_prune = 'on' (SET LOCAL: it ends with the transaction). Large prunes go in
// batches, each its own short transaction, so no lock or WAL burst is held for long; the last
// batch's transaction also writes the `audit.prune` row, so the prune leaves its own trace.
import type { Database } from '../../platform/database.ts';
import { recordAudit } from '../../platform/audit/audit-writer.ts';

export const MIN_RETENTION_DAYS = 30;
const DAY_MS = 86_400_000;

export class PruneRefused extends Error {
  override name = 'PruneRefused';
}

export interface PruneOptions {
  /** Rows with created_at strictly before this instant are deleted. */
  before: Date;
  /** Only count what would be deleted. */
  dryRun?: boolean;
  /** Allow a date less than MIN_RETENTION_DAYS ago (never one in the future). */
  force?: boolean;
  batchSize?: number;
  now?: Date;
}

export interface PruneResult {
  before: string;
  dryRun: boolean;
  /** Rows deleted, or with dryRun the rows that would be. */
  deleted: number;
  batches: number;
}

export async function pruneAuditLogs(db: Database, options: PruneOptions): Promise<PruneResult> {
  const now = options.now ?? new Date();
  const batchSize = options.batchSize ?? 10_000;
  if (Number.isNaN(options.before.getTime())) throw new PruneRefused('--before is not a valid date.');
  if (options.before > now) throw new PruneRefused('--before is in the future: that would delete the newest rows too.');
  if (!options.force && options.before.getTime() > now.getTime() - MIN_RETENTION_DAYS * DAY_MS) {
    throw new PruneRefused(`--before is less than ${MIN_RETENTION_DAYS} days ago; add --force if that is really meant.`);
  }
  const before = options.before.toISOString();

  if (options.dryRun) {
    const [row] = await db.prisma.$queryRaw<{ count: number }[]>`SELECT count(*)::int AS count FROM audit_logs WHERE created_at < ${before}::timestamptz`;
    return { before, dryRun: true, deleted: row?.count ?? 0, batches: 0 };
  }

  let deleted = 0;
  let batches = 0;
  try {
    for (let done = false; !done; ) {
      const count = await db.prisma.$transaction(
        async (tx) => {
          await tx.$executeRaw`SET LOCAL fleet.audit_prune = 'on'`;
          const count = await tx.$executeRaw`
            DELETE FROM audit_logs WHERE id IN (
              SELECT id FROM audit_logs WHERE created_at < ${before}::timestamptz LIMIT ${batchSize}::int)`;
          if (count < batchSize) {
            await recordAudit(tx, { actor: { type: 'system' }, action: 'audit.prune', details: { before, deleted: deleted + count, batches: batches + 1 } });
          }
          return count;
        },
        { maxWait: 10_000, timeout: 120_000 },
      );
      deleted += count;
      batches += 1;
      done = count < batchSize;
    }
  } catch (error) {
    // Earlier batches are committed: say so in the log before giving up.
    await recordAudit(db.prisma, {
      actor: { type: 'system' },
      action: 'audit.prune',
      result: 'failure',
      details: { before, deleted, batches, error: error instanceof Error ? error.message.slice(0, 500) : String(error) },
    }).catch(() => undefined);
    throw error;
  }
  return { before, dryRun: false, deleted, batches };
}
