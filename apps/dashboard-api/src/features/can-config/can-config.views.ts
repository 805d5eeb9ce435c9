import { z } from 'zod';
import { CAN_MODES } from './can-config.schema.ts';

export const canConfigView = z.object({
  dongleId: z.uuid(),
  /** The If-Match value for the next PUT; 0 while the defaults were never changed. */
  version: z.number().int(),
  /** The version the dongle last confirmed; 0 = never applied. */
  appliedVersion: z.number().int(),
  mode: z.enum(CAN_MODES),
  nominalBitrate: z.number().int(),
  nominalSamplePoint: z.number(),
  nominalSjw: z.number().int(),
  clockHz: z.number().int(),
  nominalPrescaler: z.number().int().nullable(),
  nominalSeg1: z.number().int().nullable(),
  nominalSeg2: z.number().int().nullable(),
  fdEnabled: z.boolean(),
  dataBitrate: z.number().int().nullable(),
  dataSamplePoint: z.number().nullable(),
  dataSjw: z.number().int().nullable(),
  dataPrescaler: z.number().int().nullable(),
  dataSeg1: z.number().int().nullable(),
  dataSeg2: z.number().int().nullable(),
  termination: z.boolean(),
  autoRetransmit: z.boolean(),
  updatedAt: z.iso.datetime().nullable(),
});
export type CanConfigView = z.infer<typeof canConfigView>;

export const canConfigPutView = canConfigView.extend({ applyCommandId: z.uuid() });
