import { z } from 'zod';
import { deviceIdSchema } from '../dongles/device-id.ts';

const label = (field: string, max = 100) =>
  z.string({ message: `${field} must be a string.` }).trim().min(1, `${field} must not be empty.`).max(max, `${field} must be at most ${max} characters.`);

export const agentIdParams = z.strictObject({ id: z.uuid({ message: 'id must be a uuid.' }) });

// ---------------------------------------------------------------- operator

export const enrollmentCodeView = z.object({ code: z.string(), expiresAt: z.iso.datetime() });

export const renameAgentBody = z.strictObject({ name: label('name') });
export type RenameAgentBody = z.infer<typeof renameAgentBody>;

export const agentView = z.object({
  id: z.uuid(),
  name: z.string(),
  hostname: z.string(),
  os: z.string(),
  version: z.string(),
  lastSeenAt: z.iso.datetime().nullable(),
  online: z.boolean(),
  createdAt: z.iso.datetime(),
});
export type AgentView = z.infer<typeof agentView>;

// ---------------------------------------------------------------- agent API

export const enrollBody = z.strictObject({
  code: z.string().min(1).max(200),
  name: label('name'),
  hostname: label('hostname', 255),
  os: label('os'),
  version: label('version', 50),
});
export type EnrollBody = z.infer<typeof enrollBody>;

export const enrolledView = z.object({ agentId: z.uuid(), token: z.string() });

/** Upper bound on dongles per heartbeat: one PC does not reach more, and it bounds the upsert. */
export const MAX_DONGLES_PER_HEARTBEAT = 64;

export const heartbeatBody = z.strictObject({
  version: label('version', 50),
  dongles: z
    .array(
      z.strictObject({
        deviceId: deviceIdSchema,
        firmwareVersion: label('firmwareVersion', 50).optional(),
        /** Chip family and board revision, e.g. "stm32g4" / "rev-b": firmware jobs match them. */
        chipFamily: label('chipFamily', 50).optional(),
        boardRevision: label('boardRevision', 50).optional(),
      }),
    )
    .max(MAX_DONGLES_PER_HEARTBEAT, `At most ${MAX_DONGLES_PER_HEARTBEAT} dongles per heartbeat.`),
});
export type HeartbeatBody = z.infer<typeof heartbeatBody>;

export const heartbeatView = z.object({
  pollIntervalSeconds: z.number().int(),
  /** Reported dongles owned by this agent's user, with the state the agent should act on. */
  dongles: z.array(z.object({ deviceId: z.string(), state: z.enum(['CLAIM_PENDING', 'CLAIMED_ACTIVE', 'RELEASE_PENDING']) })),
  /** Present when unknown dongles were not recorded because the agent's discovery quota is used up. */
  ignored: z.object({ code: z.literal('quota_exceeded'), count: z.number().int(), message: z.string() }).optional(),
});

export const rotatedTokenView = z.object({ token: z.string() });
