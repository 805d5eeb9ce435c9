// One payload schema per command type (§5). The API body is a discriminated union on `type`, so a
// bad payload is a 422 naming the field (`body.payload.canId`). APPLY_CAN_CONFIG and FIRMWARE_UPDATE are
// created by the server only (the CAN-config PUT, a firmware job): the API refuses them.
import { z } from 'zod';
import type { CommandType } from '../../generated/prisma/enums.ts';

export const COMMAND_TYPES = ['PING', 'GET_STATUS', 'REBOOT', 'SEND_FRAME', 'APPLY_CAN_CONFIG', 'START_CAPTURE', 'STOP_CAPTURE', 'FIRMWARE_UPDATE'] as const satisfies readonly CommandType[];

const MAX_STANDARD_CAN_ID = 0x7ff; // 11-bit identifier
const MAX_EXTENDED_CAN_ID = 0x1fffffff; // 29-bit identifier
/** CAN FD data lengths a DLC can encode. */
const FD_LENGTHS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 20, 24, 32, 48, 64] as const;

const empty = z.strictObject({});

const pingPayload = z.strictObject({
  /** Echoed back in the pong, so a caller can match answers. */
  echo: z.string().max(64).optional(),
});

const sendFramePayload = z
  .strictObject({
    canId: z.int({ message: 'canId must be a whole number.' }).min(0, { message: 'canId must not be negative.' }),
    extended: z.boolean().default(false),
    fd: z.boolean().default(false),
    /** Bit-rate switch for the data phase; CAN FD only. */
    brs: z.boolean().default(false),
    data: z
      .string()
      .regex(/^(?:[0-9a-fA-F]{2})*$/, { message: 'data must be hex, two digits per byte.' })
      .transform((hex) => hex.toLowerCase()),
  })
  .superRefine((frame, ctx) => {
    const maxId = frame.extended ? MAX_EXTENDED_CAN_ID : MAX_STANDARD_CAN_ID;
    if (frame.canId > maxId) {
      ctx.addIssue({ code: 'custom', path: ['canId'], message: `canId must be at most 0x${maxId.toString(16).toUpperCase()} for ${frame.extended ? '29-bit (extended)' : '11-bit'} identifiers.` });
    }
    const bytes = frame.data.length / 2;
    if (!frame.fd && bytes > 8) ctx.addIssue({ code: 'custom', path: ['data'], message: 'data must be at most 8 bytes for a classic CAN frame.' });
    if (frame.fd && !(FD_LENGTHS as readonly number[]).includes(bytes)) {
      ctx.addIssue({ code: 'custom', path: ['data'], message: `data length must be one of ${FD_LENGTHS.join(', ')} bytes for a CAN FD frame.` });
    }
    if (frame.brs && !frame.fd) ctx.addIssue({ code: 'custom', path: ['brs'], message: 'brs needs fd: true.' });
  });

const startCapturePayload = z.strictObject({
  /** Stop by itself after this long; without it, capture runs until STOP_CAPTURE. */
  durationSeconds: z.int().min(1).max(86_400).optional(),
  maxFrames: z.int().min(1).max(10_000_000).optional(),
});

/**
 * Written by the CAN-config feature: `version` is the can_configs.version being applied (a
 * success raises applied_version to it); the rest is the configuration the dongle needs.
 */
const applyCanConfigPayload = z.looseObject({ version: z.int().min(1) });

/**
 * Written by a firmware job (features/jobs): what to download (an agent route that serves it
 * only while this command is DELIVERED to the agent), and what the bytes must hash and verify to.
 */
const firmwareUpdatePayload = z.strictObject({
  imageId: z.uuid(),
  version: z.string(),
  chipFamily: z.string(),
  boardRevision: z.string(),
  size: z.int().min(1),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** base64 detached Ed25519 signature over the image, and the raw public key (base64) it verifies under. */
  signature: z.string().nullable(),
  publicKey: z.string().nullable(),
  downloadPath: z.string(),
});

const payloadSchemas = {
  PING: pingPayload,
  GET_STATUS: empty,
  REBOOT: empty,
  SEND_FRAME: sendFramePayload,
  APPLY_CAN_CONFIG: applyCanConfigPayload,
  START_CAPTURE: startCapturePayload,
  STOP_CAPTURE: empty,
  FIRMWARE_UPDATE: firmwareUpdatePayload,
} satisfies Record<CommandType, z.ZodType>;

export const TTL_DEFAULT_SECONDS = 60;
export const TTL_MAX_SECONDS = 3_600;

const ttlSeconds = z.int().min(1).max(TTL_MAX_SECONDS).optional();
const variant = <T extends CommandType, P extends z.ZodType>(type: T, payload: P, payloadRequired = false) =>
  z.strictObject({ type: z.literal(type), payload: payloadRequired ? payload : payload.default({} as never), ttlSeconds });

/** POST /api/dongles/:id/commands. APPLY_CAN_CONFIG is not in the union: it comes from PUT can-config. */
export const createCommandBody = z.discriminatedUnion('type', [
  variant('PING', pingPayload),
  variant('GET_STATUS', empty),
  variant('REBOOT', empty),
  variant('SEND_FRAME', sendFramePayload, true),
  variant('START_CAPTURE', startCapturePayload),
  variant('STOP_CAPTURE', empty),
]);
export type CreateCommandBody = z.output<typeof createCommandBody>;

/** Validates a payload the server itself builds (enqueueCommand), so agents only ever see valid ones. */
export function parsePayload(type: CommandType, payload: unknown): unknown {
  return payloadSchemas[type].parse(payload ?? {});
}
