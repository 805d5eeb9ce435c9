// The agent side of the queue: the long-poll hand-out and the result post.
//
// Hand-out rule: an agent gets the QUEUED, unexpired commands of dongles that (a) belong to its
// owner, (b) are CLAIMED_ACTIVE and (c) it reported itself in the last 5 minutes
// (dongles.last_seen_agent_id / last_seen_at, set by the heartbeat). So a command goes to the
// agent that can actually reach the dongle; if none can, it EXPIRES rather than being handed
// to an agent that would have to fail it. Delivery is at most once (a REBOOT must not run
// twice): a command marked DELIVERED whose response never reaches the agent TIMES OUT.
import type pg from 'pg';
import type { Command } from '../../generated/prisma/client.ts';
import type { Database } from '../../platform/database.ts';
import { conflict, notFound } from '../../platform/errors.ts';
import type { Logger } from '../../platform/logger.ts';
import { fleetCounters } from '../../platform/metrics.ts';
import { recordAudit, type RequestContext } from '../audit/audit.writer.ts';
import type { AgentPrincipal } from '../auth/principal.ts';
import type { CommandNotifier } from './command-notifier.ts';
import { commandFromRow, type CommandRow } from './command-queue.ts';
import { sameResult } from './command-results.ts';
import { timeOutOverdue } from './command-sweeper.ts';
import { auditClient, inPgTransaction } from './pg-transaction.ts';

/** How recently an agent must have reported a dongle to be handed its commands. */
const DONGLE_REPORT_WINDOW = '5 minutes';

/**
 * One statement: pick the next commands with row locks, skipping rows another poll holds, and
 * mark them DELIVERED. With nothing pending it matches no row, takes no lock and writes nothing.
 * Served by dongles(last_seen_agent_id) and the partial index commands_queued_by_dongle.
 */
export const CLAIM_SQL = `
WITH picked AS (
  SELECT q.id, d.device_id
    FROM dongles d
    JOIN commands q ON q.dongle_id = d.id
   WHERE d.last_seen_agent_id = $1
     AND d.owner_user_id = $2
     AND d.ownership_state = 'CLAIMED_ACTIVE'
     AND d.last_seen_at > now() - interval '${DONGLE_REPORT_WINDOW}'
     AND q.status = 'QUEUED'
     AND q.expires_at > now()
   ORDER BY q.created_at, q.id
   LIMIT $3
   FOR UPDATE OF q SKIP LOCKED
), delivered AS (
  UPDATE commands c
     SET status = 'DELIVERED', agent_id = $1, delivered_at = now(), updated_at = now()
    FROM picked
   WHERE c.id = picked.id
  RETURNING c.*, picked.device_id
)
SELECT * FROM delivered ORDER BY created_at, id`;

/**
 * Records an agent's result in one statement when the command is still DELIVERED to it and
 * within its execution timeout; otherwise no row, and resultOutcome() explains why.
 */
export const RESULT_SQL = `
UPDATE commands
   SET status = $3::command_status, result = $4::jsonb, error = $5, completed_at = now(), updated_at = now()
 WHERE id = $1 AND agent_id = $2 AND status = 'DELIVERED'
   AND delivered_at + make_interval(secs => timeout_seconds) > now()
RETURNING *`;

export type DeliveredCommand = Command & { deviceId: string };

export interface ResultInput {
  status: 'SUCCEEDED' | 'FAILED';
  result?: unknown;
  error?: string;
}

export interface AgentCommandDeps {
  db: Database;
  notifier: CommandNotifier;
  logger: Logger;
  /** Throttled agents.last_seen_at update; a poll with nothing pending must not write. */
  touchAgent(agent: AgentPrincipal): Promise<void>;
}

export function createAgentCommandService(deps: AgentCommandDeps) {
  const { db, notifier } = deps;

  async function claim(agent: AgentPrincipal, limit: number): Promise<DeliveredCommand[]> {
    const { rows } = await db.pool.query(CLAIM_SQL, [agent.id, agent.userId, limit]);
    for (const row of rows as CommandRow[]) fleetCounters.commandsDelivered.inc({ type: row.type });
    return rows.map((row) => ({ ...commandFromRow(row as CommandRow), deviceId: (row as { device_id: string }).device_id }));
  }

  /**
   * Returns at once when work exists; otherwise waits up to `waitSeconds` for a NOTIFY about the
   * owner's dongles and checks again. `signal` (shutdown or the client going away) ends the wait
   * with nothing; once it has fired we never claim, so no command is handed to a closed socket.
   */
  async function poll(agent: AgentPrincipal, options: { waitSeconds: number; limit: number }, signal: AbortSignal): Promise<DeliveredCommand[]> {
    await deps.touchAgent(agent);
    const deadline = Date.now() + options.waitSeconds * 1_000;
    for (;;) {
      if (signal.aborted) return [];
      // Register before checking: a NOTIFY between the check and the wait is not lost.
      const wakeup = options.waitSeconds > 0 ? notifier.wait(agent.userId) : undefined;
      let commands: DeliveredCommand[];
      try {
        commands = await claim(agent, options.limit);
      } catch (error) {
        wakeup?.cancel();
        throw error;
      }
      const remaining = deadline - Date.now();
      if (commands.length > 0 || !wakeup || remaining <= 0 || signal.aborted) {
        wakeup?.cancel();
        return commands;
      }
      await waitFor(wakeup.promise, Math.min(remaining, notifier.recheckMs()), signal);
      wakeup.cancel();
    }
  }

  async function postResult(agent: AgentPrincipal, commandId: string, input: ResultInput, context: RequestContext): Promise<Command> {
    const outcome = await inPgTransaction(db.pool, async (client) => {
      const params = [commandId, agent.id, input.status, input.result === undefined ? null : JSON.stringify(input.result), input.error ?? null];
      const [updated] = (await client.query<CommandRow>(RESULT_SQL, params)).rows;
      if (updated) {
        const command = commandFromRow(updated);
        await recordAudit(auditClient(client), {
          actor: { type: 'agent', id: agent.id },
          action: 'command.result',
          targetType: 'command',
          targetId: command.id,
          details: { status: command.status, type: command.type, dongleId: command.dongleId },
          context,
        });
        if (command.type === 'APPLY_CAN_CONFIG' && command.status === 'SUCCEEDED') await markConfigApplied(client, command);
        return { kind: 'recorded' as const, command };
      }
      return resultOutcome(client, agent, commandId, input);
    });
    if (outcome.kind === 'recorded') fleetCounters.commandsFinished.inc({ type: outcome.command.type, status: outcome.command.status });
    switch (outcome.kind) {
      case 'recorded':
      case 'repeat':
        return outcome.command;
      case 'not_found':
        throw notFound('Command');
      case 'timed_out':
        throw conflict('command_timed_out', 'The command timed out before its result arrived; it no longer accepts one.');
      case 'conflict':
        throw conflict('command_finished', `The command is already ${outcome.status}; a different result is not accepted.`);
    }
  }

  return { poll, postResult };
}

/** Why RESULT_SQL matched nothing: not ours (404), overdue (now TIMED_OUT, 409), a repeat (200) or a change (409). */
async function resultOutcome(client: pg.PoolClient, agent: AgentPrincipal, commandId: string, input: ResultInput) {
  const [row] = (
    await client.query<CommandRow & { overdue: boolean }>(
      `SELECT *, delivered_at + make_interval(secs => timeout_seconds) <= now() AS overdue FROM commands WHERE id = $1 FOR UPDATE`,
      [commandId],
    )
  ).rows;
  if (!row || row.agent_id !== agent.id) return { kind: 'not_found' as const };
  if (row.status === 'DELIVERED' && row.overdue) {
    // The sweeper has not got to it yet: apply the timeout here, the way it would.
    await timeOutOverdue({ client }, commandId);
    return { kind: 'timed_out' as const };
  }
  const command = commandFromRow(row);
  if (command.status === 'TIMED_OUT') return { kind: 'timed_out' as const };
  if (sameResult(command, input)) return { kind: 'repeat' as const, command };
  return { kind: 'conflict' as const, status: command.status };
}

/** applied_version only moves up, and never past the version that exists. */
async function markConfigApplied(client: pg.PoolClient, command: Command): Promise<void> {
  const version = (command.payload as { version?: unknown } | null)?.version;
  if (typeof version !== 'number') return;
  await client.query(
    `UPDATE can_configs SET applied_version = $2, updated_at = now() WHERE dongle_id = $1 AND applied_version < $2 AND version >= $2`,
    [command.dongleId, version],
  );
}

function waitFor(wakeup: Promise<void>, ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, ms));
    signal.addEventListener('abort', done, { once: true });
    void wakeup.then(done);
  });
}
