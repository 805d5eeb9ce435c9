// Response shapes. The operator sees the whole lifecycle; the agent sees what it needs to act
// (which dongle, what to do, by when to answer). The Idempotency-Key stays internal.
import { z } from 'zod';
import type { Command } from '../../generated/prisma/client.ts';
import { pageOf } from '../../platform/pagination.ts';
import { COMMAND_TYPES } from './command-payloads.ts';
import type { DeliveredCommand } from './agent-commands.service.ts';

export const COMMAND_STATUSES = ['QUEUED', 'DELIVERED', 'SUCCEEDED', 'FAILED', 'EXPIRED', 'TIMED_OUT', 'CANCELLED'] as const;

export const commandView = z.object({
  id: z.uuid(),
  dongleId: z.uuid(),
  type: z.enum(COMMAND_TYPES),
  payload: z.unknown(),
  status: z.enum(COMMAND_STATUSES),
  result: z.unknown().nullable(),
  error: z.string().nullable(),
  createdByUserId: z.uuid().nullable(),
  agentId: z.uuid().nullable(),
  /** The fleet job this command is an execution of, if any. */
  jobId: z.uuid().nullable(),
  expiresAt: z.iso.datetime(),
  timeoutSeconds: z.int(),
  deliveredAt: z.iso.datetime().nullable(),
  completedAt: z.iso.datetime().nullable(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});

export const commandPage = pageOf(commandView);

const agentCommandView = z.object({
  id: z.uuid(),
  dongleId: z.uuid(),
  deviceId: z.string(),
  type: z.enum(COMMAND_TYPES),
  payload: z.unknown(),
  deliveredAt: z.iso.datetime(),
  /** Post the result before this, or the command TIMES OUT. */
  resultDeadline: z.iso.datetime(),
});

export const agentPollView = z.object({ commands: z.array(agentCommandView) });

const iso = (date: Date | null) => (date ? date.toISOString() : null);

export function presentCommand(command: Command): z.infer<typeof commandView> {
  return {
    id: command.id,
    dongleId: command.dongleId,
    type: command.type,
    payload: command.payload,
    status: command.status,
    result: command.result ?? null,
    error: command.error,
    createdByUserId: command.createdByUserId,
    agentId: command.agentId,
    jobId: command.jobId,
    expiresAt: command.expiresAt.toISOString(),
    timeoutSeconds: command.timeoutSeconds,
    deliveredAt: iso(command.deliveredAt),
    completedAt: iso(command.completedAt),
    createdAt: command.createdAt.toISOString(),
    updatedAt: command.updatedAt.toISOString(),
  };
}

export function presentDelivered(command: DeliveredCommand): z.infer<typeof agentCommandView> {
  const deliveredAt = command.deliveredAt ?? new Date();
  return {
    id: command.id,
    dongleId: command.dongleId,
    deviceId: command.deviceId,
    type: command.type,
    payload: command.payload,
    deliveredAt: deliveredAt.toISOString(),
    resultDeadline: new Date(deliveredAt.getTime() + command.timeoutSeconds * 1_000).toISOString(),
  };
}
