// Operator and admin side of dongles: list, get, rename, claim, release, force-release.
// Every state change locks the dongle row and checks the transition (dongle-state.ts).
import { Prisma } from '../../generated/prisma/client.ts';
import type { Database, Tx } from '../../platform/database.ts';
import { conflict, notFound } from '../../platform/errors.ts';
import type { Page } from '../../platform/pagination.ts';
import { changes, recordAudit, type RequestContext } from '../audit/audit.writer.ts';
import type { SessionUser } from '../auth/principal.ts';
import { dissolveGroupOf } from '../groups/group-membership.ts';
import { lockDongle, lockOwnDongle, POSSESSION_WINDOW_SECONDS } from './dongle-lock.ts';
import { assertTransition } from './dongle-state.ts';
import { listOwnDongles } from './dongle-list.query.ts';
import { dongleViewInclude, presentDongle } from './dongles.presenter.ts';
import type { DongleListQuery, DongleView } from './dongles.schemas.ts';

export type DonglesService = ReturnType<typeof createDonglesService>;

// Read after the commit: the row locks are not held while the view's relations load.
async function loadView(client: Database['prisma'], id: string, viewerId: string): Promise<DongleView> {
  const dongle = await client.dongle.findUniqueOrThrow({ where: { id }, include: dongleViewInclude });
  return presentDongle(dongle, viewerId);
}

/** What a dongle leaving its owner takes with it: group, token, configuration, name. */
export async function stripOwnership(tx: Tx, dongleId: string, audit: Parameters<typeof dissolveGroupOf>[2]) {
  const groupId = await dissolveGroupOf(tx, dongleId, audit);
  const token = await tx.dongleToken.deleteMany({ where: { dongleId } });
  // The next owner starts from the defaults, not from the previous owner's bus settings.
  await tx.canConfig.deleteMany({ where: { dongleId } });
  await tx.dongle.update({ where: { id: dongleId }, data: { ownershipState: 'UNCLAIMED', ownerUserId: null, name: null } });
  return { groupId, keyMaterialDestroyed: token.count > 0 };
}

export function createDonglesService(deps: { db: Database }) {
  const { prisma } = deps.db;

  return {
    async list(user: SessionUser, query: DongleListQuery): Promise<Page<DongleView>> {
      return listOwnDongles(deps.db.pool, user.id, query);
    },

    async get(user: SessionUser, id: string): Promise<DongleView> {
      const dongle = await prisma.dongle.findFirst({ where: { id, ownerUserId: user.id }, include: dongleViewInclude });
      if (!dongle) throw notFound('Dongle');
      return presentDongle(dongle, user.id);
    },

    async rename(user: SessionUser, id: string, name: string | null, context: RequestContext): Promise<DongleView> {
      await prisma.$transaction(async (tx) => {
        await lockOwnDongle(tx, user.id, { id });
        const before = await tx.dongle.findUniqueOrThrow({ where: { id }, select: { name: true } });
        await tx.dongle.update({ where: { id }, data: { name } });
        await recordAudit(tx, { actor: { type: 'user', id: user.id }, action: 'dongle.update', targetType: 'dongle', targetId: id, changes: changes(before, { name }), context });
      });
      return loadView(prisma, id, user.id);
    },

    /**
     * UNCLAIMED → CLAIM_PENDING when the dongle's latest report came from one of the caller's
     * live agents within 5 minutes (proof of possession). One conditional UPDATE decides races.
     * Refusals: 409 only when the dongle is already the caller's, otherwise 404 (someone else's
     * dongle included, even one the caller's agent reports), so the endpoint is no oracle for
     * device ids and never says whether someone else owns one.
     */
    async claim(user: SessionUser, deviceId: string, context: RequestContext): Promise<DongleView> {
      const id = await prisma.$transaction(async (tx) => {
        const [claimed] = await tx.$queryRaw<Array<{ id: string }>>`
          UPDATE dongles d SET ownership_state = 'CLAIM_PENDING', owner_user_id = ${user.id}::uuid, updated_at = now()
          FROM agents a
          WHERE d.device_id = ${deviceId} AND d.ownership_state = 'UNCLAIMED'
            AND a.id = d.last_seen_agent_id AND a.user_id = ${user.id}::uuid AND a.revoked_at IS NULL
            AND d.last_seen_at > now() - make_interval(secs => ${POSSESSION_WINDOW_SECONDS})
          RETURNING d.id::text AS id`;
        if (claimed) {
          await recordAudit(tx, { actor: { type: 'user', id: user.id }, action: 'dongle.claim', targetType: 'dongle', targetId: claimed.id, details: { deviceId, to: 'CLAIM_PENDING' }, context });
          return claimed.id;
        }
        // Another user's dongle is never recorded as reported by my agents (dongle-sightings.ts),
        // so all I can learn here is that a dongle is already mine.
        const [mine] = await tx.$queryRaw<Array<{ id: string }>>`
          SELECT id::text AS id FROM dongles WHERE device_id = ${deviceId} AND owner_user_id = ${user.id}::uuid`;
        if (mine) throw conflict('dongle_already_claimed', 'This dongle is already claimed.');
        throw notFound('Dongle');
      });
      return loadView(prisma, id, user.id);
    },

    /** CLAIM_PENDING/CLAIMED_ACTIVE → RELEASE_PENDING; the dongle leaves its group now. */
    async release(user: SessionUser, id: string, context: RequestContext): Promise<DongleView> {
      await prisma.$transaction(async (tx) => {
        const dongle = await lockOwnDongle(tx, user.id, { id });
        const to = assertTransition('release', dongle.state);
        const actor = { type: 'user', id: user.id } as const;
        const groupId = await dissolveGroupOf(tx, id, { actor, reason: 'dongle_released', context });
        await tx.dongle.update({ where: { id }, data: { ownershipState: to } });
        await recordAudit(tx, { actor, action: 'dongle.release', targetType: 'dongle', targetId: id, details: { deviceId: dongle.deviceId, from: dongle.state, to, groupId }, context });
      });
      return loadView(prisma, id, user.id);
    },

    /** Admin: UNCLAIMED at once, whoever owns it; token, group and configuration destroyed. */
    async forceRelease(admin: SessionUser, id: string, context: RequestContext): Promise<DongleView> {
      await prisma.$transaction(async (tx) => {
        const dongle = await lockDongle(tx, { id });
        if (!dongle) throw notFound('Dongle');
        const to = assertTransition('force_release', dongle.state);
        const actor = { type: 'user', id: admin.id } as const;
        const stripped = await stripOwnership(tx, id, { actor, reason: 'dongle_force_released', context });
        await recordAudit(tx, {
          actor,
          action: 'dongle.force_release',
          targetType: 'dongle',
          targetId: id,
          details: { deviceId: dongle.deviceId, from: dongle.state, to, previousOwnerUserId: dongle.ownerUserId, ...stripped },
          context,
        });
      });
      return loadView(prisma, id, admin.id);
    },
  };
}
