// The two timers: QUEUED past expires_at → EXPIRED, DELIVERED past delivered_at + timeout_seconds
// → TIMED_OUT. `expireOverdue` / `timeOutOverdue` are the one implementation of each transition
// (SQL, error text, audit row), used by the sweeper (every overdue command, in batches) and by
// the request paths that find one command overdue (a cancel, a late result).
//
// Safe on several instances at once: each batch is one UPDATE over rows it locks with SKIP
// LOCKED, guarded by the status it changes (and the overdue condition), so two sweepers (or a
// sweeper and a request) never both apply a transition. Every changed command gets its own
// audit row (targetType 'command', targetId its id, details {dongleId}, in the command's
// organization), so a command's audit trail is complete whoever applied the timer. The
// statements are in commands.sql.ts.
import { inPgTransaction, run, type Database, type Db, type Statement } from '../../platform/database.ts';
import { periodicWorker, type BackgroundWorker } from '../../platform/lifecycle.ts';
import type { Logger } from '../../platform/logger.ts';
import { fleetCounters } from '../../platform/metrics.ts';
import { recordAudits } from '../../platform/audit/audit-writer.ts';
import { recordEvents } from '../../platform/events/event-writer.ts';
import { EXPIRE_BATCH, EXPIRE_ONE, SWEEP_BATCH, TIME_OUT_BATCH, TIME_OUT_ONE, type TransitionRow } from './commands.sql.ts';

async function transition<P extends [] | [string]>(db: Db, stmt: Statement<P, TransitionRow>, params: P, action: 'command.expire' | 'command.timeout'): Promise<string[]> {
  const rows = await run(db, stmt, params);
  // One audit row per command, written as one statement per batch (recordAudits), not 500.
  await recordAudits(
    db,
    rows.map((row) => ({ actor: { type: 'system' as const }, action, targetType: 'command', targetId: row.id, details: { dongleId: row.dongle_id }, organizationId: row.organization_id })),
  );
  for (const row of rows) fleetCounters.commandsFinished.inc({ type: row.type, status: action === 'command.expire' ? 'EXPIRED' : 'TIMED_OUT' });
  // Events after the audit rows: the writer's per-organization lock is then held the shortest time.
  const type = action === 'command.expire' ? 'command.expired' : 'command.timed_out';
  await recordEvents(db, rows.map((row) => ({ organizationId: row.organization_id, type, subjectId: row.id, data: { dongleId: row.dongle_id } })));
  return rows.map((row) => row.id);
}

/**
 * QUEUED → EXPIRED for `commandId` if it is overdue, or for the next batch of overdue commands
 * when no id is given. Returns the ids it changed; call inside a transaction.
 */
export function expireOverdue(db: Db, commandId?: string): Promise<string[]> {
  return commandId ? transition(db, EXPIRE_ONE, [commandId], 'command.expire') : transition(db, EXPIRE_BATCH, [], 'command.expire');
}

/**
 * DELIVERED → TIMED_OUT for `commandId` if it is overdue, or for the next batch of overdue
 * commands when no id is given. Returns the ids it changed; call inside a transaction.
 */
export function timeOutOverdue(db: Db, commandId?: string): Promise<string[]> {
  return commandId ? transition(db, TIME_OUT_ONE, [commandId], 'command.timeout') : transition(db, TIME_OUT_BATCH, [], 'command.timeout');
}

interface SweepResult {
  expired: number;
  timedOut: number;
}

/**
 * One full sweep (every overdue command, in batches of one transaction each, on pg: a batch
 * writes up to 500 audit rows, in one statement).
 */
async function sweepCommands(db: Database): Promise<SweepResult> {
  const result: SweepResult = { expired: 0, timedOut: 0 };
  for (const [apply, key] of [
    [expireOverdue, 'expired'],
    [timeOutOverdue, 'timedOut'],
  ] as const) {
    for (;;) {
      const ids = await inPgTransaction(db.pool, (client) => apply(client));
      result[key] += ids.length;
      if (ids.length < SWEEP_BATCH) break;
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
    logger: options.logger,
  });
}
