import { z } from 'zod';
import { listQuery } from '../../platform/pagination.ts';
import { selectorField } from './tag-selector.ts';
import { deviceIdSchema } from './device-id.ts';

export const OWNERSHIP_STATES = ['UNCLAIMED', 'CLAIM_PENDING', 'CLAIMED_ACTIVE', 'RELEASE_PENDING'] as const;

export const dongleIdParams = z.strictObject({ id: z.uuid({ message: 'id must be a uuid.' }) });
export const deviceIdParams = z.strictObject({ deviceId: deviceIdSchema });

export const claimBody = z.strictObject({ deviceId: deviceIdSchema });

export const renameDongleBody = z.strictObject({
  /** null clears the name. */
  name: z.string({ message: 'name must be a string or null.' }).trim().min(1, 'name must not be empty.').max(100, 'name must be at most 100 characters.').nullable(),
});

export const dongleView = z.object({
  id: z.uuid(),
  deviceId: z.string(),
  name: z.string().nullable(),
  state: z.enum(OWNERSHIP_STATES),
  firmwareVersion: z.string().nullable(),
  chipFamily: z.string().nullable(),
  boardRevision: z.string().nullable(),
  tags: z.record(z.string(), z.string()),
  lastSeenAt: z.iso.datetime().nullable(),
  /** The caller's agent that reported the dongle last; null when that was not one of theirs. */
  lastSeenAgentId: z.uuid().nullable(),
  groupId: z.uuid().nullable(),
  /** 0 until a configuration is stored. */
  canConfigVersion: z.number().int(),
  canConfigAppliedVersion: z.number().int(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});
export type DongleView = z.infer<typeof dongleView>;

export const dongleTokenView = z.object({ token: z.string() });
export const dongleAckView = z.object({ deviceId: z.string(), state: z.enum(OWNERSHIP_STATES) });

/** GET /api/dongles: the page, optionally filtered by a tag selector (doc/jobs.md#selectors). */
export const dongleListQuery = listQuery.extend({ selector: selectorField.optional() });
export type DongleListQuery = z.output<typeof dongleListQuery>;
