// Operator and admin side of dongles: list, get, rename, claim, release, force-release.
// Every state change locks the dongle row and checks the transition (dongle-state.ts).
import { Prisma } from '../../generated/prisma/client.ts';
import type { Database } from '../../platform/database.ts';
import { conflict, notFound } from '../../platform/errors.ts';
import type { ListQuery, Page } from '../../platform/pagination.ts';
import { changes, recordAudit, type RequestContext } from '../../platform/audit/audit-writer.ts';
import { recordEvent } from '../../platform/events/event-writer.ts';
import type { SessionUser } from '../auth/principal.ts';
import type { OrgScope } from '../organizations/org-scope.ts';
import { dissolveGroupOf } from './group-exit.ts';
import { stripOwnership, type CancelCommands } from './ownership-end.ts';
import { lockDongle, lockOrgDongle } from './dongle-lock.ts';
import { assertTransition, reportedRecentlySql, stateSql, TRANSITIONS } from './dongle-state.ts';

const CLAIM = stateSql('claim');
import { listOrgDongles } from './dongle-list.query.ts';
import { dongleViewInclude, presentDongle } from './dongles.presenter.ts';
import type { DongleListQuery, DongleView } from './dongles.schemas.ts';

export type DonglesService = ReturnType<typeof createDonglesService>;

// Read after the commit: the row locks are not held while the view's relations load.
async function loadView(client: Database['prisma'], id: string, viewerOrgId: string): Promise<DongleView> {
  const dongle = await client.dongle.findUniqueOrThrow({ where: { id }, include: dongleViewInclude });
  return presentDongle(dongle, viewerOrgId);
}

export function createDonglesService(deps: { db: Database; cancelCommands: CancelCommands }) {
  const { prisma } = deps.db;

  return {
    async list(scope: OrgScope, query: DongleListQuery): Promise<Page<DongleView>> {
      return listOrgDongles(deps.db.pool, scope.orgId, query);
    },

    async get(scope: OrgScope, id: string): Promise<DongleView> {
      const dongle = await prisma.dongle.findFirst({ where: { id, organizationId: scope.orgId }, include: dongleViewInclude });
      if (!dongle) throw notFound('Dongle');
      return presentDongle(dongle, scope.orgId);
    },

    async rename(scope: OrgScope, id: string, name: string | null, context: RequestContext): Promise<DongleView> {
      await prisma.$transaction(async (tx) => {
        await lockOrgDongle(tx, scope.orgId, { id });
        const before = await tx.dongle.findUniqueOrThrow({ where: { id }, select: { name: true } });
        await tx.dongle.update({ where: { id }, data: { name } });
        await recordAudit(tx, { actor: { type: 'user', id: scope.userId }, action: 'dongle.update', targetType: 'dongle', targetId: id, changes: changes(before, { name }), context });
        if (before.name !== name) await recordEvent(tx, { organizationId: scope.orgId, type: 'dongle.renamed', subjectId: id, data: { from: before.name, to: name } });
      });
      return loadView(prisma, id, scope.orgId);
    },

    /**
     * UNCLAIMED → CLAIM_PENDING, into the organization, when the dongle's latest report came
     * from one of the organization's live agents within 5 minutes (proof of possession). One
     * conditional UPDATE decides races. owner_user_id keeps who claimed it. Refusals: 409 only
     * when the dongle is already the organization's, otherwise 404 (another organization's
     * dongle included, even one our agent reports), so the endpoint is no oracle for device ids.
     */
    async claim(scope: OrgScope, deviceId: string, context: RequestContext): Promise<DongleView> {
      const user = { id: scope.userId };
      const id = await prisma.$transaction(async (tx) => {
        const [claimed] = await tx.$queryRaw<Array<{ id: string }>>`
          UPDATE dongles d SET ownership_state = ${Prisma.raw(CLAIM.to)}, owner_user_id = ${user.id}::uuid,
                 organization_id = ${scope.orgId}::uuid, updated_at = now()
          FROM agents a
          WHERE d.device_id = ${deviceId} AND d.ownership_state IN (${Prisma.raw(CLAIM.from)})
            AND a.id = d.last_seen_agent_id AND a.organization_id = ${scope.orgId}::uuid AND a.revoked_at IS NULL
            AND ${Prisma.raw(reportedRecentlySql('d'))}
          RETURNING d.id::text AS id`;
        if (claimed) {
          await recordAudit(tx, { actor: { type: 'user', id: user.id }, action: 'dongle.claim', targetType: 'dongle', targetId: claimed.id, details: { deviceId, to: TRANSITIONS.claim.to }, context });
          await recordEvent(tx, { organizationId: scope.orgId, type: 'dongle.state_changed', subjectId: claimed.id, data: { deviceId, from: TRANSITIONS.claim.from[0], to: TRANSITIONS.claim.to } });
          return claimed.id;
        }
        // Another organization's dongle is never recorded as reported by our agents
        // (agents/dongle-sightings.ts), so all we can learn here is that a dongle is already ours.
        const [mine] = await tx.$queryRaw<Array<{ id: string }>>`
          SELECT id::text AS id FROM dongles WHERE device_id = ${deviceId} AND organization_id = ${scope.orgId}::uuid`;
        if (mine) throw conflict('dongle_already_claimed', 'This dongle is already claimed.');
        throw notFound('Dongle');
      });
      return loadView(prisma, id, scope.orgId);
    },

    /** CLAIM_PENDING/CLAIMED_ACTIVE → RELEASE_PENDING; the dongle leaves its group now. */
    async release(scope: OrgScope, id: string, context: RequestContext): Promise<DongleView> {
      await prisma.$transaction(async (tx) => {
        const dongle = await lockOrgDongle(tx, scope.orgId, { id });
        const to = assertTransition('release', dongle.state);
        const actor = { type: 'user', id: scope.userId } as const;
        // Nothing more can be handed out for a releasing dongle: its queue ends now, not at the ack.
        const commandsCancelled = await deps.cancelCommands(tx, [id], { actor, reason: 'dongle_released', context });
        const groupId = await dissolveGroupOf(tx, id, { actor, reason: 'dongle_released', context });
        await tx.dongle.update({ where: { id }, data: { ownershipState: to } });
        await recordAudit(tx, { actor, action: 'dongle.release', targetType: 'dongle', targetId: id, details: { deviceId: dongle.deviceId, from: dongle.state, to, groupId, commandsCancelled }, context });
        if (groupId) await recordEvent(tx, { organizationId: scope.orgId, type: 'group.deleted', subjectId: groupId, data: { reason: 'dongle_released' } });
        await recordEvent(tx, { organizationId: scope.orgId, type: 'dongle.state_changed', subjectId: id, data: { deviceId: dongle.deviceId, from: dongle.state, to } });
      });
      return loadView(prisma, id, scope.orgId);
    },

    /** Admin: UNCLAIMED at once, whoever owns it; token, group and configuration destroyed. */
    async forceRelease(admin: SessionUser, id: string, context: RequestContext): Promise<DongleView> {
      await prisma.$transaction(async (tx) => {
        const dongle = await lockDongle(tx, { id });
        if (!dongle) throw notFound('Dongle');
        const to = assertTransition('force_release', dongle.state);
        const actor = { type: 'user', id: admin.id } as const;
        const stripped = await stripOwnership(tx, deps.cancelCommands, id, { actor, reason: 'dongle_force_released', context });
        await recordAudit(tx, {
          actor,
          action: 'dongle.force_release',
          targetType: 'dongle',
          targetId: id,
          details: { deviceId: dongle.deviceId, from: dongle.state, to, previousOwnerUserId: dongle.ownerUserId, previousOrganizationId: dongle.organizationId, ...stripped },
          context,
        });
        // The organization that lost it is told; the dongle now belongs to none.
        if (dongle.organizationId) await recordEvent(tx, { organizationId: dongle.organizationId, type: 'dongle.state_changed', subjectId: id, data: { deviceId: dongle.deviceId, from: dongle.state, to, reason: 'force_released' } });
      });
      return loadView(prisma, id, '');
    },
  };
}
