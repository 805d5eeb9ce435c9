// The agent side of the queue: the long-poll hand-out and the result post.
//
// Hand-out rule: an agent gets the QUEUED, unexpired commands of dongles that (a) belong to its
// organization (and were queued in it), (b) are CLAIMED_ACTIVE and (c) it reported itself in the last 5 minutes
// (dongles.last_seen_agent_id / last_seen_at, set by the heartbeat). So a command goes to the
// agent that can actually reach the dongle; if none can, it EXPIRES rather than being handed
// to an agent that would have to fail it. Also (d) the command was created under the dongle's
// current ownership (created_at >= dongles.owned_since), and (e) the poll's token, its agent
// (still of that organization) and the user who enrolled it are still live, checked by the statement itself, so a release, a deletion, a
// token rotation or a suspension takes effect on polls that started before it. Delivery is at
// most once (a REBOOT must not run twice): a command marked DELIVERED whose response never
// reaches the agent TIMES OUT. The statements are in commands.sql.ts.
import type pg from 'pg';
import type { Command } from '../../generated/prisma/client.ts';
import { inPgTransaction, run, type Database } from '../../platform/database.ts';
import { AppError, conflict, notFound } from '../../platform/errors.ts';
import type { Logger } from '../../platform/logger.ts';
import { fleetCounters } from '../../platform/metrics.ts';
import { recordAudit, type RequestContext } from '../../platform/audit/audit-writer.ts';
import { announceEvents, recordEvent } from '../../platform/events/event-writer.ts';
import type { AgentPrincipal } from '../auth/principal.ts';
import type { CommandNotifier, WakeReason } from './command-notifier.ts';
import { commandFromRow } from './command-queue.ts';
import { sameResult } from './command-results.ts';
import { timeOutOverdue } from './command-sweeper.ts';
import { canApply } from './command-lifecycle.ts';
import { CLAIM, claimParams, CONFIG_APPLIED, RESULT, RESULT_REFUSED } from './commands.sql.ts';

/** Retry-After of a poll refused for the per-agent cap. */
const POLL_RETRY_AFTER_SECONDS = 5;

export interface PollOptions {
  waitSeconds: number;
  limit: number;
}

/** 429 for a waiting poll beyond the per-agent cap; Retry-After spread over 5–10 s so refused polls do not return in step. */
export function tooManyPolls(cap: number): AppError {
  const retryAfter = POLL_RETRY_AFTER_SECONDS + Math.floor(Math.random() * (POLL_RETRY_AFTER_SECONDS + 1));
  return new AppError(429, 'too_many_polls', `This agent already has ${cap} polls waiting; wait for one to return.`, undefined, { 'Retry-After': String(retryAfter) });
}

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
  /** Waiting polls one agent may hold at once in this process; beyond it, 429 too_many_polls. */
  maxConcurrentPolls: number;
  /** Throttled agents.last_seen_at update; a poll with nothing pending must not write. */
  touchAgent(agent: AgentPrincipal): Promise<void>;
}

export function createAgentCommandService(deps: AgentCommandDeps) {
  const { db, notifier } = deps;

  /** Waiting polls admitted per bearer-token hash, in this process. */
  const waiting = new Map<string, number>();

  // One statement: the hand-out and its command.delivered events commit together (CLAIM).
  async function claim(agent: AgentPrincipal, limit: number): Promise<DeliveredCommand[]> {
    const rows = await run(db.pool, CLAIM, claimParams(agent, limit));
    const commands = rows.map((row) => ({ ...commandFromRow(row), deviceId: row.device_id }));
    if (commands.length > 0) announceEvents(db.pool);
    for (const command of commands) fleetCounters.commandsDelivered.inc({ type: command.type });
    return commands;
  }

  /**
   * Returns at once when work exists; otherwise waits up to `waitSeconds` for a NOTIFY meant for
   * this agent and checks again. `signal` (shutdown or the client going away) ends the wait with
   * nothing; once it has fired we never claim, so no command is handed to a closed socket. A
   * waiting poll also ends with nothing when its agent is revoked. How many may wait at once is
   * decided before authentication, by admitWaitingPoll().
   */
  async function poll(agent: AgentPrincipal, options: PollOptions, signal: AbortSignal): Promise<DeliveredCommand[]> {
    await deps.touchAgent(agent);
    if (options.waitSeconds === 0) return signal.aborted ? [] : claim(agent, options.limit);
    return waitForWork(agent, options, signal);
  }

  /**
   * The per-agent cap on waiting polls, applied before authentication so that a refusal costs
   * no query: each bearer token (by its SHA-256) may have `maxConcurrentPolls` polls with
   * `wait > 0` in this process, from admission until the response closes. An agent has one
   * live token at a time (rotation revokes the old one and ends its polls), so this is the
   * per-agent cap; an unknown token is admitted, and refused by the guard. Returns the release
   * function, or undefined when the cap is reached (429 too_many_polls).
   */
  function admitWaitingPoll(tokenKey: string): (() => void) | undefined {
    const held = waiting.get(tokenKey) ?? 0;
    if (held >= deps.maxConcurrentPolls) return undefined;
    waiting.set(tokenKey, held + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (waiting.get(tokenKey) ?? 1) - 1;
      if (left <= 0) waiting.delete(tokenKey);
      else waiting.set(tokenKey, left);
    };
  }

  async function waitForWork(agent: AgentPrincipal, options: PollOptions, signal: AbortSignal): Promise<DeliveredCommand[]> {
    const deadline = Date.now() + options.waitSeconds * 1_000;
    for (;;) {
      if (signal.aborted) return [];
      // Register before checking: a NOTIFY between the check and the wait is not lost.
      const wakeup = notifier.wait(agent.id);
      let commands: DeliveredCommand[];
      try {
        commands = await claim(agent, options.limit);
      } catch (error) {
        wakeup.cancel();
        throw error;
      }
      const remaining = deadline - Date.now();
      if (commands.length > 0 || remaining <= 0 || signal.aborted) {
        wakeup.cancel();
        return commands;
      }
      const reason = await waitFor(wakeup.promise, Math.min(remaining, notifier.recheckMs()), signal);
      wakeup.cancel();
      if (reason === 'revoked') return [];
    }
  }

  async function postResult(agent: AgentPrincipal, commandId: string, input: ResultInput, context: RequestContext): Promise<Command> {
    const outcome = await inPgTransaction(db.pool, async (client) => {
      const [updated] = await run(client, RESULT, [commandId, agent.id, input.status, input.result === undefined ? null : JSON.stringify(input.result), input.error ?? null]);
      if (updated) {
        const command = commandFromRow(updated);
        await recordAudit(client, {
          actor: { type: 'agent', id: agent.id },
          action: 'command.result',
          targetType: 'command',
          targetId: command.id,
          details: { status: command.status, type: command.type, dongleId: command.dongleId },
          context,
        });
        await recordEvent(client, {
          organizationId: command.organizationId,
          type: command.status === 'SUCCEEDED' ? 'command.succeeded' : 'command.failed',
          subjectId: command.id,
          data: { dongleId: command.dongleId, type: command.type, ...(command.error ? { error: command.error.slice(0, 500) } : {}) },
        }, { notify: false });
        if (command.type === 'APPLY_CAN_CONFIG' && command.status === 'SUCCEEDED') await markConfigApplied(client, command);
        return { kind: 'recorded' as const, command };
      }
      return resultOutcome(client, agent, commandId, input);
    });
    // After the COMMIT: a NOTIFY inside the transaction would serialise result commits.
    if (outcome.kind === 'recorded') announceEvents(db.pool);
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

  return { poll, admitWaitingPoll, postResult, maxConcurrentPolls: deps.maxConcurrentPolls };
}

/** Why RESULT matched nothing: not ours (404), overdue (now TIMED_OUT, 409), a repeat (200) or a change (409). */
async function resultOutcome(client: pg.PoolClient, agent: AgentPrincipal, commandId: string, input: ResultInput) {
  const [row] = await run(client, RESULT_REFUSED, [commandId]);
  if (!row || row.agent_id !== agent.id) return { kind: 'not_found' as const };
  if (canApply('time_out', row.status) && row.overdue) {
    // The sweeper has not got to it yet: apply the timeout here, the way it would.
    await timeOutOverdue(client, commandId);
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
  const applied = await run(client, CONFIG_APPLIED, [command.dongleId, version]);
  if (applied.length > 0) await recordEvent(client, { organizationId: command.organizationId, type: 'can_config.applied', subjectId: command.dongleId, data: { version, commandId: command.id } }, { notify: false });
}

function waitFor(wakeup: Promise<WakeReason>, ms: number, signal: AbortSignal): Promise<WakeReason | 'timeout'> {
  return new Promise((resolve) => {
    const done = (reason: WakeReason | 'timeout') => {
      clearTimeout(timer);
      signal.removeEventListener('abort', aborted);
      resolve(reason);
    };
    const aborted = () => done('timeout');
    const timer = setTimeout(aborted, Math.max(0, ms));
    signal.addEventListener('abort', aborted, { once: true });
    void wakeup.then(done);
  });
}
