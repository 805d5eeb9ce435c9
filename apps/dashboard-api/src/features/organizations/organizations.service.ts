// Organizations and their members: create, list mine, rename, delete, transfer ownership;
// list members, change a role, remove a member, leave. Rules beyond the permission matrix
// (policy.ts), each checked under a lock on the organization's membership rows so that two
// concurrent changes cannot both pass them:
//   - an organization always keeps at least one owner (the last one cannot leave, be removed
//     or be demoted);
//   - only an owner may make someone owner or change/remove an owner;
//   - a personal organization has exactly its user: no transfer, no deletion, no other members.
// Removing a member revokes their API keys for the organization in the same transaction; the
// guard reads the membership on every request, so the removal bites at their next request.
import type { OrgRole } from '../../generated/prisma/enums.ts';
import type { Database, Tx } from '../../platform/database.ts';
import { conflict, forbidden, notFound } from '../../platform/errors.ts';
import { changes, recordAudit, type RequestContext } from '../../platform/audit/audit-writer.ts';
import { recordEvent } from '../../platform/events/event-writer.ts';
import type { SessionUser } from '../auth/principal.ts';
import type { OrgScope } from './org-scope.ts';
import type { MemberView, OrgView } from './organizations.schemas.ts';

export type OrganizationsService = ReturnType<typeof createOrganizationsService>;

type OrgRow = { id: string; name: string; personalOwnerUserId: string | null; createdAt: Date };
const presentOrg = (org: OrgRow, role: OrgRole): OrgView => ({
  id: org.id,
  name: org.name,
  personal: org.personalOwnerUserId !== null,
  role,
  createdAt: org.createdAt.toISOString(),
});

/** Locks the organization's memberships (in user order) and returns them. */
export async function lockMembers(tx: Tx, orgId: string) {
  return tx.$queryRaw<Array<{ userId: string; role: OrgRole }>>`
    SELECT user_id::text AS "userId", role::text AS role FROM memberships
     WHERE organization_id = ${orgId}::uuid ORDER BY user_id FOR UPDATE`;
}

const lastOwner = () => conflict('last_owner', 'An organization keeps at least one owner: make someone else owner first.');
const personalOnly = () => conflict('personal_organization', 'A personal organization belongs to its user alone.');

/** Revokes a member's live API keys for the organization; returns how many. */
export async function revokeMemberKeys(tx: Tx, orgId: string, userId: string): Promise<number> {
  const revoked = await tx.apiKey.updateMany({ where: { organizationId: orgId, userId, revokedAt: null }, data: { revokedAt: new Date() } });
  return revoked.count;
}

export function createOrganizationsService(deps: { db: Database }) {
  const { prisma } = deps.db;
  const actorOf = (id: string) => ({ type: 'user', id }) as const;

  async function orgRow(client: Tx | Database['prisma'], orgId: string) {
    const org = await client.organization.findUnique({ where: { id: orgId } });
    if (!org) throw notFound('Organization');
    return org;
  }

  return {
    async listMine(user: SessionUser): Promise<OrgView[]> {
      const memberships = await prisma.membership.findMany({ where: { userId: user.id }, include: { organization: true }, orderBy: { createdAt: 'asc' } });
      return memberships.map((m) => presentOrg(m.organization, m.role));
    },

    async create(user: SessionUser, name: string, context: RequestContext): Promise<OrgView> {
      return prisma.$transaction(async (tx) => {
        const org = await tx.organization.create({ data: { name, memberships: { create: { userId: user.id, role: 'owner' } } } });
        const audit = { actor: actorOf(user.id), targetType: 'organization', targetId: org.id, organizationId: org.id, context };
        await recordAudit(tx, { ...audit, action: 'organization.create', details: { name } });
        await recordAudit(tx, { ...audit, action: 'organization.member.add', details: { userId: user.id, role: 'owner', reason: 'created' } });
        return presentOrg(org, 'owner');
      });
    },

    async get(scope: OrgScope): Promise<OrgView> {
      return presentOrg(await orgRow(prisma, scope.orgId), scope.role);
    },

    async rename(scope: OrgScope, name: string, context: RequestContext): Promise<OrgView> {
      return prisma.$transaction(async (tx) => {
        const before = await orgRow(tx, scope.orgId);
        const after = await tx.organization.update({ where: { id: scope.orgId }, data: { name } });
        await recordAudit(tx, { actor: actorOf(scope.userId), action: 'organization.update', targetType: 'organization', targetId: scope.orgId, changes: changes(before, { name }), context });
        return presentOrg(after, scope.role);
      });
    },

    /** Deletes a shared organization with its agents, groups, commands, keys and invitations; its dongles must be released first. */
    async remove(scope: OrgScope, context: RequestContext): Promise<void> {
      await prisma.$transaction(async (tx) => {
        const org = await orgRow(tx, scope.orgId);
        if (org.personalOwnerUserId) throw personalOnly();
        await lockMembers(tx, scope.orgId);
        const dongles = await tx.dongle.count({ where: { organizationId: scope.orgId } });
        if (dongles > 0) throw conflict('organization_not_empty', `Release the organization's ${dongles} dongle(s) first.`);
        await tx.organization.delete({ where: { id: scope.orgId } });
        await recordAudit(tx, { actor: actorOf(scope.userId), action: 'organization.delete', targetType: 'organization', targetId: scope.orgId, details: { name: org.name }, context });
      });
    },

    /** The new owner must be a member; the previous owner stays, as admin. */
    async transfer(scope: OrgScope, toUserId: string, context: RequestContext): Promise<MemberView[]> {
      await prisma.$transaction(async (tx) => {
        const org = await orgRow(tx, scope.orgId);
        if (org.personalOwnerUserId) throw personalOnly();
        const members = await lockMembers(tx, scope.orgId);
        const target = members.find((m) => m.userId === toUserId);
        if (!target) throw notFound('Member');
        if (toUserId === scope.userId) throw conflict('already_owner', 'You already own this organization.');
        await tx.membership.update({ where: { organizationId_userId: { organizationId: scope.orgId, userId: toUserId } }, data: { role: 'owner' } });
        await tx.membership.update({ where: { organizationId_userId: { organizationId: scope.orgId, userId: scope.userId } }, data: { role: 'admin' } });
        const audit = { actor: actorOf(scope.userId), targetType: 'organization', targetId: scope.orgId, context };
        await recordAudit(tx, { ...audit, action: 'organization.transfer', details: { fromUserId: scope.userId, toUserId, toPreviousRole: target.role } });
        await recordEvent(tx, { organizationId: scope.orgId, type: 'member.role_changed', subjectId: toUserId, data: { from: target.role, to: 'owner' } });
        await recordEvent(tx, { organizationId: scope.orgId, type: 'member.role_changed', subjectId: scope.userId, data: { from: 'owner', to: 'admin' } });
      });
      return this.members(scope);
    },

    async members(scope: OrgScope): Promise<MemberView[]> {
      const rows = await prisma.membership.findMany({ where: { organizationId: scope.orgId }, include: { user: { select: { email: true } } }, orderBy: { createdAt: 'asc' } });
      return rows.map((m) => ({ userId: m.userId, email: m.user.email, role: m.role, joinedAt: m.createdAt.toISOString() }));
    },

    async changeRole(scope: OrgScope, userId: string, role: OrgRole, context: RequestContext): Promise<MemberView> {
      return prisma.$transaction(async (tx) => {
        const members = await lockMembers(tx, scope.orgId);
        const target = members.find((m) => m.userId === userId);
        if (!target) throw notFound('Member');
        if ((target.role === 'owner' || role === 'owner') && scope.role !== 'owner') throw forbidden('forbidden', 'Only an owner may make someone owner or change an owner.');
        if (target.role === 'owner' && role !== 'owner' && members.filter((m) => m.role === 'owner').length === 1) throw lastOwner();
        const updated = await tx.membership.update({
          where: { organizationId_userId: { organizationId: scope.orgId, userId } },
          data: { role },
          include: { user: { select: { email: true } } },
        });
        await recordAudit(tx, { actor: actorOf(scope.userId), action: 'organization.member.role', targetType: 'user', targetId: userId, changes: changes({ role: target.role }, { role }), context });
        if (target.role !== role) await recordEvent(tx, { organizationId: scope.orgId, type: 'member.role_changed', subjectId: userId, data: { from: target.role, to: role } });
        return { userId, email: updated.user.email, role, joinedAt: updated.createdAt.toISOString() };
      });
    },

    /** Removes a member (or, with `leaving`, the caller); their keys for this organization die now. */
    async removeMember(scope: OrgScope, userId: string, context: RequestContext, leaving = false): Promise<void> {
      await prisma.$transaction(async (tx) => {
        const members = await lockMembers(tx, scope.orgId);
        const target = members.find((m) => m.userId === userId);
        if (!target) throw notFound('Member');
        const org = await orgRow(tx, scope.orgId);
        if (org.personalOwnerUserId === userId) throw personalOnly();
        if (target.role === 'owner' && !leaving && scope.role !== 'owner') throw forbidden('forbidden', 'Only an owner may remove an owner.');
        if (target.role === 'owner' && members.filter((m) => m.role === 'owner').length === 1) throw lastOwner();
        await tx.membership.delete({ where: { organizationId_userId: { organizationId: scope.orgId, userId } } });
        const keysRevoked = await revokeMemberKeys(tx, scope.orgId, userId);
        await recordAudit(tx, {
          actor: actorOf(scope.userId),
          action: leaving ? 'organization.member.leave' : 'organization.member.remove',
          targetType: 'user',
          targetId: userId,
          details: { role: target.role, keysRevoked },
          context,
        });
        // Also ends the removed member's open event streams on every instance (event-stream.ts).
        await recordEvent(tx, { organizationId: scope.orgId, type: 'member.removed', subjectId: userId, data: { role: target.role, left: leaving } });
      });
    },
  };
}
