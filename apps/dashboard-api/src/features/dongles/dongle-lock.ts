// Row locks for every dongle state change: SELECT … FOR UPDATE inside the change's transaction,
// so concurrent claims, releases, acks and group creations on one dongle run one after another.
import { Prisma, type Dongle } from '../../generated/prisma/client.ts';
import type { Tx } from '../../platform/database.ts';
import { notFound } from '../../platform/errors.ts';
import { reportedRecentlySql } from './dongle-state.ts';

/** The locked row's fields the state changes read (Prisma's Dongle), plus the possession check. */
export type LockedDongle = Pick<Dongle, 'id' | 'deviceId' | 'ownerUserId' | 'organizationId' | 'lastSeenAgentId'> & {
  state: Dongle['ownershipState'];
  /** last_seen_at within the report window (proof of possession; by the database clock). */
  reportedRecently: boolean;
};

async function lockRow(tx: Tx, where: { id: string } | { deviceId: string }, organizationId?: string): Promise<LockedDongle | undefined> {
  const key = 'id' in where ? Prisma.sql`id = ${where.id}::uuid` : Prisma.sql`device_id = ${where.deviceId}`;
  const owner = organizationId === undefined ? Prisma.empty : Prisma.sql` AND organization_id = ${organizationId}::uuid`;
  const [row] = await tx.$queryRaw<LockedDongle[]>`
    SELECT id::text AS "id", device_id AS "deviceId", owner_user_id::text AS "ownerUserId", organization_id::text AS "organizationId",
           ownership_state::text AS "state", last_seen_agent_id::text AS "lastSeenAgentId",
           COALESCE(${Prisma.raw(reportedRecentlySql('dongles'))}, false) AS "reportedRecently"
    FROM dongles WHERE ${key}${owner} FOR UPDATE`;
  return row;
}

export function lockDongle(tx: Tx, where: { id: string } | { deviceId: string }): Promise<LockedDongle | undefined> {
  return lockRow(tx, where);
}

/**
 * A dongle of the organization, locked; 404 when it does not exist or belongs to another
 * organization (no existence oracle). The organization condition is part of the locking query,
 * so another organization's dongle is never locked.
 */
export async function lockOrgDongle(tx: Tx, organizationId: string, where: { id: string } | { deviceId: string }): Promise<LockedDongle> {
  const dongle = await lockRow(tx, where, organizationId);
  if (!dongle) throw notFound('Dongle');
  return dongle;
}
