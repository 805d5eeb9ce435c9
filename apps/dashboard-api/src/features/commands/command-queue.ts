// The one way a command enters the queue, used by the commands API and by other features (the
// CAN-config PUT queues APPLY_CAN_CONFIG through it). Call it inside the caller's transaction:
// the row, its audit entry and the wake-up NOTIFY commit together (PostgreSQL delivers a NOTIFY
// only at commit, so a poller never wakes for a command it cannot see yet).
import type { Command } from '../../generated/prisma/client.ts';
import type { CommandType } from '../../generated/prisma/enums.ts';
import type { Tx } from '../../platform/database.ts';
import { conflict, notFound } from '../../platform/errors.ts';
import { fleetCounters } from '../../platform/metrics.ts';
import { recordAudit, type RequestContext } from '../audit/audit.writer.ts';
import { parsePayload, TTL_DEFAULT_SECONDS, TTL_MAX_SECONDS } from './command-payloads.ts';

export type { Command };

/** LISTEN/NOTIFY channel; the payload is the dongle owner's user id (see command-notifier.ts). */
export const COMMANDS_CHANNEL = 'fleet_commands';
const DEFAULT_TIMEOUT_SECONDS = 30;

export interface EnqueueInput {
  dongleId: string;
  type: CommandType;
  payload: unknown;
  /** The operator on whose behalf the command is sent; null for commands the system makes. */
  createdByUserId: string | null;
  /** Time to be picked up before it EXPIRES: default 60 s, at most 1 h. */
  ttlSeconds?: number;
  /** Time to answer once DELIVERED before it TIMES OUT: default 30 s. */
  timeoutSeconds?: number;
  idempotencyKey?: string;
  /** For the audit row. */
  context?: RequestContext;
}

export interface CommandRow {
  id: string;
  dongle_id: string;
  created_by_user_id: string | null;
  agent_id: string | null;
  type: CommandType;
  payload: unknown;
  status: Command['status'];
  result: unknown;
  error: string | null;
  idempotency_key: string | null;
  expires_at: Date;
  timeout_seconds: number;
  delivered_at: Date | null;
  completed_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

/** A raw `commands` row (from pg or $queryRaw) in Prisma's shape. */
export function commandFromRow(row: CommandRow): Command {
  return {
    id: row.id,
    dongleId: row.dongle_id,
    createdByUserId: row.created_by_user_id,
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
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/**
 * Inserts a QUEUED command for a CLAIMED_ACTIVE dongle and wakes the owner's pollers at commit.
 * 404 when the dongle does not exist or (for a user-created command) is not the creator's;
 * 409 `dongle_not_active` when it is not CLAIMED_ACTIVE. The payload is validated for its type.
 */
export async function enqueueCommand(tx: Tx, input: EnqueueInput): Promise<Command> {
  const payload = parsePayload(input.type, input.payload);
  const ttl = Math.min(Math.max(1, Math.trunc(input.ttlSeconds ?? TTL_DEFAULT_SECONDS)), TTL_MAX_SECONDS);
  const timeout = Math.max(1, Math.trunc(input.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS));

  const [dongle] = await tx.$queryRaw<{ owner_user_id: string | null; ownership_state: string }[]>`
    SELECT owner_user_id, ownership_state FROM dongles WHERE id = ${input.dongleId}::uuid`;
  if (!dongle || (input.createdByUserId !== null && dongle.owner_user_id !== input.createdByUserId)) throw notFound('Dongle');
  if (dongle.ownership_state !== 'CLAIMED_ACTIVE' || !dongle.owner_user_id) {
    throw conflict('dongle_not_active', 'Commands can only be sent to a dongle in CLAIMED_ACTIVE.');
  }

  // expires_at from the database clock: the sweeper and the hand-out compare with now() there.
  const [row] = await tx.$queryRaw<CommandRow[]>`
    INSERT INTO commands (dongle_id, created_by_user_id, type, payload, idempotency_key, expires_at, timeout_seconds)
    VALUES (${input.dongleId}::uuid, ${input.createdByUserId}::uuid, ${input.type}::command_type, ${JSON.stringify(payload)}::jsonb,
            ${input.idempotencyKey ?? null}, now() + make_interval(secs => ${ttl}), ${timeout})
    RETURNING *`;
  const command = commandFromRow(row!);

  await recordAudit(tx, {
    actor: input.createdByUserId ? { type: 'user', id: input.createdByUserId } : { type: 'system' },
    action: 'command.create',
    targetType: 'command',
    targetId: command.id,
    details: { dongleId: command.dongleId, type: command.type, ttlSeconds: ttl },
    context: input.context,
  });
  await tx.$executeRaw`SELECT pg_notify(${COMMANDS_CHANNEL}, ${dongle.owner_user_id})`;
  fleetCounters.commandsCreated.inc({ type: command.type });
  return command;
}
