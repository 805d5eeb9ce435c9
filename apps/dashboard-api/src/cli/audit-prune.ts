// npm run audit:prune -- --before <ISO date> [--dry-run] [--force] [--batch-size N]
// The only way rows leave audit_logs (see doc/audit.md, "Retention"). Deletes rows created before
// the date, in batches, and writes one `audit.prune` row. Refuses a date less than 30 days ago
// unless --force, and any date in the future.
import { MIN_RETENTION_DAYS, PruneRefused, pruneAuditLogs } from '../features/audit/audit.retention.ts';
import type { Database } from '../platform/database.ts';
import { consoleIo, parseCliArgs, runAsMain, withCliDatabase, type CliIo } from './cli-support.ts';

const USAGE = `usage: npm run audit:prune -- --before <ISO date, e.g. 2025-01-01> [--dry-run] [--force] [--batch-size N]
  --before      delete audit rows created before this instant (UTC when no offset is given)
  --dry-run     only print how many rows would be deleted
  --force       allow a date less than ${MIN_RETENTION_DAYS} days ago
  --batch-size  rows per transaction (default 10000)`;

/** An ISO date or date-time; without a zone it means UTC, never the machine's local time. */
function parseBefore(text: string | undefined): Date | undefined {
  if (!text || !/^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(text)) return undefined;
  return new Date(/T[\d:.]+$/.test(text) ? `${text}Z` : text);
}

/** Runs the command; returns the exit code. Tests pass their own database and output. */
export async function runAuditPrune(argv: string[], deps: { db?: Database; io?: CliIo } = {}): Promise<number> {
  const io = deps.io ?? consoleIo;
  const parsed = parseCliArgs(argv, { before: { type: 'string' }, 'dry-run': { type: 'boolean' }, force: { type: 'boolean' }, 'batch-size': { type: 'string' } }, USAGE, io);
  if ('exitCode' in parsed) return parsed.exitCode;
  const { values } = parsed;
  const before = parseBefore(values.before);
  const batchSize = values['batch-size'] === undefined ? undefined : Number(values['batch-size']);
  if (!before || Number.isNaN(before.getTime())) {
    io.err(`--before must be an ISO 8601 date or date-time.\n${USAGE}`);
    return 2;
  }
  if (batchSize !== undefined && (!Number.isInteger(batchSize) || batchSize < 1)) {
    io.err(`--batch-size must be a positive integer.\n${USAGE}`);
    return 2;
  }

  return withCliDatabase(deps.db, async (db) => {
    try {
      const result = await pruneAuditLogs(db, { before, dryRun: values['dry-run'], force: values.force, batchSize });
      io.out(
        result.dryRun
          ? `dry run: ${result.deleted} audit row(s) created before ${result.before} would be deleted.`
          : `deleted ${result.deleted} audit row(s) created before ${result.before} in ${result.batches} batch(es); recorded as audit.prune.`,
      );
      return 0;
    } catch (error) {
      if (error instanceof PruneRefused) {
        io.err(`refused: ${error.message}`);
        return 2;
      }
      throw error;
    }
  });
}

runAsMain(import.meta.url, (argv) => runAuditPrune(argv));
