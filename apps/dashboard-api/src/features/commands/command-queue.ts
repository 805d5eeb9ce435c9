// The one way a command enters the queue, used by the commands API and by other features (the
// CAN-config PUT queues APPLY_CAN_CONFIG through it). Call it inside the caller's transaction:
// the row, its audit entry and the wake-up NOTIFY commit together (PostgreSQL delivers a NOTIFY
// only at commit, so a poller never wakes for a command it cannot see yet).
import type { Command } from '../../generated/prisma/client.ts';
import type { CommandType } from '../../generated/prisma/enums.ts';
import { Prisma, sql, type Db, type Tx } from '../../platform/database.ts';
import { notFound, quotaExceeded } from '../../platform/errors.ts';
import { fleetCounters } from '../../platform/metrics.ts';
import { recordAudit, recordAudits, type Actor, type RequestContext } from '../../platform/audit/audit-writer.ts';
import { eventCtes, recordEvent } from '../../platform/events/event-writer.ts';
import { parsePayload, TTL_DEFAULT_SECONDS, TTL_MAX_SECONDS } from './command-payloads.ts';
import { assertCommandable, COMMANDABLE_STATE } from '../dongles/dongle-state.ts';
import type { OwnershipEnd } from '../dongles/ownership-end.ts';
import { statusIs, statusTo, timerRunningSql } from './command-lifecycle.ts';
import type { CommandRow } from './commands.sql.ts';

export type { Command, CommandRow };

/** LISTEN/NOTIFY channel; the payload names the agent to wake (see command-notifier.ts). */
export const COMMANDS_CHANNEL = 'fleet_commands';

/** NOTIFY payload for new work an agent can claim (`revoked:<id>`: see endWaitingPolls). */
export const workFor = (agentId: string) => `work:${agentId}`;
const DEFAULT_TIMEOUT_SECONDS = 30;

export interface EnqueueInput {
  dongleId: string;
  type: CommandType;
  payload: unknown;
  /** The operator on whose behalf the command is sent; null for commands the system makes. */
  createdByUserId: string | null;
  /** The organization sending it: the dongle must be this organization's (else 404); unset for system commands. */
  organizationId?: string;
  /** Time to be picked up before it EXPIRES: default 60 s, at most 1 h. */
  ttlSeconds?: number;
  /** Time to answer once DELIVERED before it TIMES OUT: default 30 s. */
  timeoutSeconds?: number;
  /** The fleet job this command executes for, if any. */
  jobId?: string;
  /** For the audit row. */
  context?: RequestContext;
  /** Most QUEUED commands the dongle may hold (quota); unset for commands the system makes. */
  queuedLimit?: number;
}

/** A raw `commands` row (from pg or $queryRaw) in Prisma's shape. */
export function commandFromRow(row: CommandRow): Command {
  return {
    id: row.id,
    dongleId: row.dongle_id,
    createdByUserId: row.created_by_user_id,
    organizationId: row.organization_id,
    agentId: row.agent_id,
    type: row.type,
    payload: row.payload as Command['payload'],
    status: row.status,
    result: row.result as Command['result'],
    error: row.error,
    idempotencyKey: row.idempotency_key,
    expiresAt: row.expires_at,
    timeoutSeconds: row.timeout_seconds,
    deliveredAt: row.delivered_at,
    completedAt: row.completed_at,
    jobId: row.job_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/**
 * Inserts a QUEUED command for a CLAIMED_ACTIVE dongle, in the dongle's organization, and wakes
 * the agent that reports it at commit. 404 when the dongle does not exist or is not the sending
 * organization's; 409 `dongle_not_active` when it is not CLAIMED_ACTIVE; 429 `quota_exceeded`
 * when the dongle already holds `queuedLimit` QUEUED commands. The payload is validated for its type.
 */
export async function enqueueCommand(tx: Tx, input: EnqueueInput): Promise<Command> {
  const payload = parsePayload(input.type, input.payload);
  const ttl = Math.min(Math.max(1, Math.trunc(input.ttlSeconds ?? TTL_DEFAULT_SECONDS)), TTL_MAX_SECONDS);
  const timeout = Math.max(1, Math.trunc(input.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS));

  // Locked until commit: a release (FOR UPDATE) waits for this insert and then cancels it, or
  // runs first and we see it; and two sends to one dongle count its queue one after the other.
  const [dongle] = await tx.$queryRaw<{ owner_user_id: string | null; organization_id: string | null; ownership_state: string; last_seen_agent_id: string | null }[]>`
    SELECT owner_user_id, organization_id::text AS organization_id, ownership_state, last_seen_agent_id
      FROM dongles WHERE id = ${input.dongleId}::uuid FOR NO KEY UPDATE`;
  if (!dongle || (input.organizationId !== undefined && dongle.organization_id !== input.organizationId)) throw notFound('Dongle');
  // (A CLAIMED_ACTIVE dongle always has an owner: the dongles_owner_matches_state constraint.)
  assertCommandable(dongle.ownership_state, `Commands can only be sent to a dongle in ${COMMANDABLE_STATE}.`);
  if (input.queuedLimit !== undefined) {
    const [{ queued }] = (await tx.$queryRaw<{ queued: number }[]>`
      SELECT count(*)::int AS queued FROM commands WHERE dongle_id = ${input.dongleId}::uuid AND ${Prisma.raw(statusIs('deliver'))} AND ${Prisma.raw(timerRunningSql('expire'))}`) as [{ queued: number }];
    if (queued >= input.queuedLimit) {
      throw quotaExceeded('queued_commands_per_dongle', input.queuedLimit, `This dongle already has ${queued} queued commands; wait for them to be delivered or cancel some.`);
    }
  }

  // expires_at from the database clock: the sweeper and the hand-out compare with now() there.
  const [row] = await tx.$queryRaw<CommandRow[]>`
    INSERT INTO commands (dongle_id, organization_id, created_by_user_id, type, payload, expires_at, timeout_seconds, job_id)
    VALUES (${input.dongleId}::uuid, ${dongle.organization_id}::uuid, ${input.createdByUserId}::uuid, ${input.type}::command_type, ${JSON.stringify(payload)}::jsonb,
            now() + make_interval(secs => ${ttl}), ${timeout}, ${input.jobId ?? null}::uuid)
    RETURNING *`;
  const command = commandFromRow(row!);

  await recordAudit(tx, {
    actor: input.createdByUserId ? { type: 'user', id: input.createdByUserId } : { type: 'system' },
    action: 'command.create',
    targetType: 'command',
    targetId: command.id,
    details: { dongleId: command.dongleId, type: command.type, ttlSeconds: ttl, ...(input.jobId ? { jobId: input.jobId } : {}) },
    context: input.context,
  });
  await recordEvent(tx, { organizationId: command.organizationId, type: 'command.created', subjectId: command.id, data: { dongleId: command.dongleId, type: command.type } });
  // Only the agent that reports the dongle can claim it (agent-commands.service.ts), so only its
  // polls wake. No reporting agent: nobody to wake; the command waits for one or expires.
  if (dongle.last_seen_agent_id) await tx.$executeRaw`SELECT pg_notify(${COMMANDS_CHANNEL}, ${workFor(dongle.last_seen_agent_id)})`;
  fleetCounters.commandsCreated.inc({ type: command.type });
  return command;
}

/**
 * Ends, at commit, the waiting long-polls of agents whose access was just revoked (deleted,
 * token rotated, owner suspended). The hand-out already refuses them; this only stops them
 * from idling until their wait runs out.
 */
export async function endWaitingPolls(tx: Tx, agentIds: string[]): Promise<void> {
  if (agentIds.length === 0) return;
  await tx.$executeRaw`SELECT pg_notify(${COMMANDS_CHANNEL}, 'revoked:' || id) FROM unnest(${agentIds}::text[]) AS id`;
}

/** Why QUEUED commands are cancelled in bulk: an ownership ended, or the job they execute for stopped. */
export type CancelReason = OwnershipEnd | 'job_aborted' | 'job_cancelled';

/** The command's `error` text per reason (a job's texts are also its executions' reason). */
export const CANCEL_TEXT: Record<CancelReason, string> = {
  dongle_released: 'cancelled: the dongle was released',
  dongle_force_released: 'cancelled: an administrator force-released the dongle',
  claim_lapsed: 'cancelled: the claim on the dongle lapsed',
  job_aborted: 'job aborted',
  job_cancelled: 'job cancelled',
};

export type CancelledCommand = Pick<CommandRow, 'id' | 'dongle_id' | 'type' | 'organization_id'>;

// The lifecycle's cancel over a set of commands, with their command.cancelled events in the same
// statement (a job may hold thousands of QUEUED commands: one statement, not one per command).
const cancelQueuedSql = (which: string) => `
WITH cancelled AS (
  UPDATE commands SET status = ${statusTo('cancel')}, error = $2, completed_at = now(), updated_at = now()
   WHERE ${which} AND ${statusIs('cancel')}
  RETURNING id, dongle_id, type, organization_id, created_at
), cancelled_events AS (
  SELECT organization_id, id::text AS subject_id, jsonb_build_object('dongleId', dongle_id::text, 'type', type::text, 'reason', $3::text) AS data
    FROM cancelled ORDER BY created_at, id
), ${eventCtes('cancelled_events', 'command.cancelled').trimStart()}
SELECT id::text AS id, dongle_id::text AS dongle_id, type::text AS type, organization_id::text AS organization_id
  FROM cancelled WHERE (SELECT count(*) FROM ev_notified) >= 0 ORDER BY created_at, id`;

const CANCEL_BY_DONGLES_SQL = cancelQueuedSql('dongle_id = ANY($1::uuid[])');
const CANCEL_BY_JOB_SQL = cancelQueuedSql('job_id = $1::uuid');

/**
 * Cancels the QUEUED commands of some dongles or of one job (the lifecycle's `cancel`), each with
 * its command.cancelled event and command.cancel audit row (details: dongle, type, reason, and the
 * job), in the caller's transaction. Returns the cancelled commands.
 */
export async function cancelQueued(
  db: Db,
  which: { dongleIds: string[] } | { jobId: string },
  audit: { actor: Actor; reason: CancelReason; context?: RequestContext },
): Promise<CancelledCommand[]> {
  if ('dongleIds' in which && which.dongleIds.length === 0) return [];
  const [statement, target] = 'jobId' in which ? [CANCEL_BY_JOB_SQL, which.jobId] : [CANCEL_BY_DONGLES_SQL, which.dongleIds];
  const cancelled = await sql<CancelledCommand>(db, statement, [target, CANCEL_TEXT[audit.reason], audit.reason]);
  const jobId = 'jobId' in which ? { jobId: which.jobId } : {};
  await recordAudits(
    db,
    cancelled.map((row) => ({
      actor: audit.actor,
      action: 'command.cancel' as const,
      targetType: 'command',
      targetId: row.id,
      details: { dongleId: row.dongle_id, type: row.type, reason: audit.reason, ...jobId },
      context: audit.context,
      // The command's organization, whoever cancels (an admin's force-release, the claim lapse).
      organizationId: row.organization_id,
    })),
  );
  for (const row of cancelled) fleetCounters.commandsFinished.inc({ type: row.type, status: 'CANCELLED' });
  return cancelled;
}

/**
 * Cancels every QUEUED command of `dongleIds`, one audit row each (action command.cancel, with
 * the reason). Every transition that ends an ownership calls it inside its own transaction: a
 * command never outlives the ownership it was created under (the hand-out also refuses one
 * created before dongles.owned_since, whatever path left it behind).
 */
export async function cancelQueuedCommands(
  tx: Tx,
  dongleIds: string[],
  audit: { actor: Actor; reason: OwnershipEnd; context?: RequestContext },
): Promise<number> {
  return (await cancelQueued(tx, { dongleIds }, audit)).length;
}
