// Invitations by email, through the outbox: a single-use token (only its SHA-256 is stored),
// valid 7 days, accepted by a logged-in user whose verified email is the invited address.
// Accepting is one conditional UPDATE (one winner under concurrency) plus the membership insert,
// in one transaction: two accepts of one token make one membership.
import type { Config } from '../../config.ts';
import type { Invitation } from '../../generated/prisma/client.ts';
import type { Database } from '../../platform/database.ts';
import { conflict, notFound } from '../../platform/errors.ts';
import { generateSecret, sha256Hex } from '../../platform/secrets.ts';
import { recordAudit, type RequestContext } from '../../platform/audit/audit-writer.ts';
import { recordEvent } from '../../platform/events/event-writer.ts';
import type { SessionUser } from '../auth/principal.ts';
import { enqueueEmail } from '../email/outbox.ts';
import { invitationEmail } from '../email/templates.ts';
import type { OrgScope } from './org-scope.ts';
import type { InvitationView, OrgView } from './organizations.schemas.ts';

export const INVITATION_TTL_MS = 7 * 24 * 3600_000;

export type InvitationsService = ReturnType<typeof createInvitationsService>;

function status(inv: Invitation): InvitationView['status'] {
  if (inv.acceptedAt) return 'accepted';
  if (inv.revokedAt) return 'revoked';
  return inv.expiresAt.getTime() <= Date.now() ? 'expired' : 'pending';
}

const present = (inv: Invitation): InvitationView => ({
  id: inv.id,
  email: inv.email,
  role: inv.role as InvitationView['role'],
  status: status(inv),
  expiresAt: inv.expiresAt.toISOString(),
  invitedByUserId: inv.invitedByUserId,
  createdAt: inv.createdAt.toISOString(),
});

export function createInvitationsService(deps: { db: Database; config: Pick<Config, 'publicUrl'> }) {
  const { prisma } = deps.db;
  const actorOf = (id: string) => ({ type: 'user', id }) as const;

  return {
    async invite(scope: OrgScope, input: { email: string; role: InvitationView['role'] }, context: RequestContext): Promise<InvitationView> {
      const token = generateSecret();
      return prisma.$transaction(async (tx) => {
        const org = await tx.organization.findUniqueOrThrow({ where: { id: scope.orgId } });
        if (org.personalOwnerUserId) throw conflict('personal_organization', 'A personal organization belongs to its user alone; create an organization to invite people.');
        // Serialises invitations to one address in one organization.
        await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${`invitation:${scope.orgId}:${input.email}`}, 0))`;
        const member = await tx.membership.findFirst({ where: { organizationId: scope.orgId, user: { email: input.email } } });
        if (member) throw conflict('already_member', 'This address already belongs to a member.');
        const pending = await tx.invitation.findFirst({ where: { organizationId: scope.orgId, email: input.email, acceptedAt: null, revokedAt: null, expiresAt: { gt: new Date() } } });
        if (pending) throw conflict('invitation_pending', 'This address already has a pending invitation: resend or revoke it.');
        const inv = await tx.invitation.create({
          data: { organizationId: scope.orgId, email: input.email, role: input.role, tokenHash: sha256Hex(token), invitedByUserId: scope.userId, expiresAt: new Date(Date.now() + INVITATION_TTL_MS) },
        });
        await enqueueEmail(tx, invitationEmail(deps.config.publicUrl, input.email, token, org.name, input.role));
        await recordAudit(tx, { actor: actorOf(scope.userId), action: 'organization.invitation.create', targetType: 'invitation', targetId: inv.id, details: { email: input.email, role: input.role }, context });
        return present(inv);
      });
    },

    async list(scope: OrgScope): Promise<InvitationView[]> {
      const rows = await prisma.invitation.findMany({ where: { organizationId: scope.orgId }, orderBy: { createdAt: 'desc' }, take: 200 });
      return rows.map(present);
    },

    async revoke(scope: OrgScope, id: string, context: RequestContext): Promise<InvitationView> {
      return prisma.$transaction(async (tx) => {
        const revoked = await tx.invitation.updateMany({ where: { id, organizationId: scope.orgId, acceptedAt: null, revokedAt: null }, data: { revokedAt: new Date() } });
        const inv = await tx.invitation.findFirst({ where: { id, organizationId: scope.orgId } });
        if (!inv) throw notFound('Invitation');
        if (revoked.count === 0) throw conflict('invitation_closed', `This invitation is already ${status(inv)}.`);
        await recordAudit(tx, { actor: actorOf(scope.userId), action: 'organization.invitation.revoke', targetType: 'invitation', targetId: id, details: { email: inv.email }, context });
        return present(inv);
      });
    },

    /** A new token and 7 more days; the previous link stops working. */
    async resend(scope: OrgScope, id: string, context: RequestContext): Promise<InvitationView> {
      const token = generateSecret();
      return prisma.$transaction(async (tx) => {
        const expiresAt = new Date(Date.now() + INVITATION_TTL_MS);
        const updated = await tx.invitation.updateMany({ where: { id, organizationId: scope.orgId, acceptedAt: null, revokedAt: null }, data: { tokenHash: sha256Hex(token), expiresAt } });
        const inv = await tx.invitation.findFirst({ where: { id, organizationId: scope.orgId }, include: { organization: { select: { name: true } } } });
        if (!inv) throw notFound('Invitation');
        if (updated.count === 0) throw conflict('invitation_closed', `This invitation is already ${status(inv)}.`);
        await enqueueEmail(tx, invitationEmail(deps.config.publicUrl, inv.email, token, inv.organization.name, inv.role));
        await recordAudit(tx, { actor: actorOf(scope.userId), action: 'organization.invitation.resend', targetType: 'invitation', targetId: id, details: { email: inv.email, expiresAt: expiresAt.toISOString() }, context });
        return present(inv);
      });
    },

    /**
     * Accepts for the logged-in user. Unknown, used, revoked or expired tokens, and tokens for
     * another address, are all the same 404: the endpoint says nothing about invitations that
     * are not the caller's.
     */
    async accept(user: SessionUser, token: string, context: RequestContext): Promise<OrgView> {
      return prisma.$transaction(async (tx) => {
        const [inv] = await tx.$queryRaw<Array<{ id: string; organization_id: string; role: InvitationView['role'] }>>`
          UPDATE invitations SET accepted_at = now(), accepted_by_user_id = ${user.id}::uuid
           WHERE token_hash = ${sha256Hex(token)} AND email = ${user.email.toLowerCase()}
             AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > now()
          RETURNING id::text AS id, organization_id::text AS organization_id, role::text AS role`;
        if (!inv) throw notFound('Invitation');
        const inserted = await tx.$executeRaw`
          INSERT INTO memberships (organization_id, user_id, role) VALUES (${inv.organization_id}::uuid, ${user.id}::uuid, ${inv.role}::org_role)
          ON CONFLICT DO NOTHING`;
        if (inserted === 0) throw conflict('already_member', 'You are already a member of this organization.');
        const audit = { actor: actorOf(user.id), organizationId: inv.organization_id, context };
        await recordAudit(tx, { ...audit, action: 'organization.invitation.accept', targetType: 'invitation', targetId: inv.id });
        await recordAudit(tx, { ...audit, action: 'organization.member.add', targetType: 'user', targetId: user.id, details: { role: inv.role, invitationId: inv.id } });
        await recordEvent(tx, { organizationId: inv.organization_id, type: 'member.added', subjectId: user.id, data: { role: inv.role } });
        const org = await tx.organization.findUniqueOrThrow({ where: { id: inv.organization_id } });
        return { id: org.id, name: org.name, personal: false, role: inv.role, createdAt: org.createdAt.toISOString() };
      });
    },
  };
}
