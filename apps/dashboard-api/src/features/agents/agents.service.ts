// Desktop agents: enrollment with a one-time code, bearer tokens (stored as SHA-256 only),
// heartbeats, and the organization's list / rename / delete. Every change is audited in its
// own transaction; another organization's agent is a 404. user_id keeps who enrolled it.
import type { Config } from '../../config.ts';
import { Prisma } from '../../generated/prisma/client.ts';
import type { Database, Tx } from '../../platform/database.ts';
import { badRequest, notFound, quotaExceeded, unauthorized } from '../../platform/errors.ts';
import { inIdOrder, pageIds, type ListQuery, type Page } from '../../platform/pagination.ts';
import { generateSecret, sha256Hex } from '../../platform/secrets.ts';
import { changes, recordAudit, type RequestContext } from '../../platform/audit/audit-writer.ts';
import { recordEvent } from '../../platform/events/event-writer.ts';
import type { AgentPrincipal } from '../auth/principal.ts';
import { endWaitingPolls } from '../commands/command-queue.ts';
import type { OrgScope } from '../organizations/org-scope.ts';
import { recordDongleSightings, type ReportedDongle } from './dongle-sightings.ts';
import { lastSeenThrottleMs, touchAgentLastSeen } from './agent-presence.ts';
import { presentAgent } from './agents.presenter.ts';
import type { AgentView, EnrollBody, HeartbeatBody } from './agents.schemas.ts';
import { activeUserSql } from '../auth/user-status.ts';
import { holdsSql } from '../organizations/policy.ts';

export const ENROLLMENT_CODE_TTL_MS = 10 * 60_000;

export type AgentsService = ReturnType<typeof createAgentsService>;

export function createAgentsService(deps: { db: Database; config: Pick<Config, 'agentPollIntervalMs' | 'quotas'> }) {
  const { prisma } = deps.db;
  const pollIntervalMs = deps.config.agentPollIntervalMs;
  const present = (agent: Parameters<typeof presentAgent>[0]) => presentAgent(agent, pollIntervalMs);

  /** The organization's not deleted agent, or 404 (also for another organization's). */
  async function orgAgent(client: Tx | typeof prisma, scope: OrgScope, id: string, lock = false) {
    // The organization condition is part of the locking query: another's agent is never locked.
    if (lock) await client.$queryRaw`SELECT id FROM agents WHERE id = ${id}::uuid AND organization_id = ${scope.orgId}::uuid AND revoked_at IS NULL FOR UPDATE`;
    const agent = await client.agent.findFirst({ where: { id, organizationId: scope.orgId, revokedAt: null } });
    if (!agent) throw notFound('Agent');
    return agent;
  }

  return {
    /** 429 quota_exceeded when the user already holds QUOTA_OPEN_ENROLLMENT_CODES_PER_USER unused, unexpired codes. */
    async createEnrollmentCode(scope: OrgScope, context: RequestContext) {
      const user = { id: scope.userId };
      const code = generateSecret();
      const expiresAt = new Date(Date.now() + ENROLLMENT_CODE_TTL_MS);
      const limit = deps.config.quotas.openEnrollmentCodesPerUser;
      await prisma.$transaction(async (tx) => {
        // Serializes one user's code creations, so two at once cannot both take the last slot.
        await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${`enrollment-codes:${user.id}`}, 0))`;
        const open = await tx.agentEnrollmentCode.count({ where: { userId: user.id, usedAt: null, expiresAt: { gt: new Date() } } });
        if (open >= limit) {
          throw quotaExceeded('open_enrollment_codes_per_user', limit, `You already have ${open} unused enrollment codes; use one or wait for them to expire (10 minutes).`);
        }
        const row = await tx.agentEnrollmentCode.create({ data: { userId: user.id, organizationId: scope.orgId, codeHash: sha256Hex(code), expiresAt } });
        await recordAudit(tx, { actor: { type: 'user', id: user.id }, action: 'agent.enrollment_code.create', targetType: 'agent_enrollment_code', targetId: row.id, details: { expiresAt: expiresAt.toISOString() }, context });
      });
      return { code, expiresAt: expiresAt.toISOString() };
    },

    /** Redeems the code atomically (one winner under concurrency) and issues the agent's first token. */
    async enroll(input: EnrollBody, context: RequestContext) {
      const codeHash = sha256Hex(input.code);
      const token = generateSecret();
      const agentId = await prisma.$transaction(async (tx) => {
        // The code's creator must still be active, verified and an admin of the organization.
        const [redeemed] = await tx.$queryRaw<Array<{ id: string; user_id: string; organization_id: string }>>`
          UPDATE agent_enrollment_codes c SET used_at = now()
          FROM users u, memberships m
          WHERE c.code_hash = ${codeHash} AND c.used_at IS NULL AND c.expires_at > now()
            AND u.id = c.user_id AND ${Prisma.raw(activeUserSql('u'))} AND u.email_verified_at IS NOT NULL
            AND m.organization_id = c.organization_id AND m.user_id = c.user_id AND ${Prisma.raw(holdsSql('m', 'agents.manage'))}
          RETURNING c.id::text AS id, c.user_id::text AS user_id, c.organization_id::text AS organization_id`;
        if (!redeemed) return null;
        const agent = await tx.agent.create({
          data: { userId: redeemed.user_id, organizationId: redeemed.organization_id, name: input.name, hostname: input.hostname, os: input.os, version: input.version, tokens: { create: { tokenHash: sha256Hex(token) } } },
        });
        await tx.agentEnrollmentCode.update({ where: { id: redeemed.id }, data: { agentId: agent.id } });
        await recordAudit(tx, {
          actor: { type: 'agent', id: agent.id },
          action: 'agent.enroll',
          targetType: 'agent',
          targetId: agent.id,
          organizationId: redeemed.organization_id,
          details: { ownerUserId: redeemed.user_id, enrollmentCodeId: redeemed.id, name: input.name, hostname: input.hostname, os: input.os, version: input.version },
          context,
        });
        await recordEvent(tx, { organizationId: redeemed.organization_id, type: 'agent.enrolled', subjectId: agent.id, data: { name: input.name, hostname: input.hostname, os: input.os, version: input.version } });
        return agent.id;
      });
      if (!agentId) {
        // A failed redemption is an authentication event: audited, but with nothing of the code.
        const known = await prisma.agentEnrollmentCode.findUnique({ where: { codeHash }, select: { id: true } });
        await prisma.$transaction((tx) =>
          recordAudit(tx, { actor: { type: 'system' }, action: 'agent.enroll', result: 'failure', targetType: 'agent_enrollment_code', targetId: known?.id ?? null, context }),
        );
        throw badRequest('invalid_code', 'The enrollment code is invalid, expired or already used.');
      }
      return { agentId, token };
    },

    async heartbeat(agent: AgentPrincipal, input: HeartbeatBody, context: RequestContext) {
      await touchAgentLastSeen(prisma, agent, { pollIntervalMs, version: input.version });
      const reported: ReportedDongle[] = input.dongles.map((d) => ({ deviceId: d.deviceId, firmwareVersion: d.firmwareVersion ?? null, chipFamily: d.chipFamily ?? null, boardRevision: d.boardRevision ?? null }));
      const limit = deps.config.quotas.unclaimedDonglesPerAgent;
      const sightings = await recordDongleSightings(prisma, agent, reported, { throttleMs: lastSeenThrottleMs(pollIntervalMs), unclaimedLimit: limit, context });
      const view = { pollIntervalSeconds: Math.round(pollIntervalMs / 1000), dongles: sightings.owned };
      if (sightings.ignored === 0) return view;
      // Not a 429: refusing the heartbeat would take this agent's own dongles offline.
      return {
        ...view,
        ignored: {
          code: 'quota_exceeded',
          count: sightings.ignored,
          message: `${sightings.ignored} unknown dongle(s) were not recorded: this agent already reports ${limit} unclaimed dongles (QUOTA_UNCLAIMED_DONGLES_PER_AGENT).`,
        },
      };
    },

    /** The old token dies in the same transaction that creates the new one. */
    async rotateToken(agent: AgentPrincipal, context: RequestContext) {
      const token = generateSecret();
      await prisma.$transaction(async (tx) => {
        const revoked = await tx.agentToken.updateMany({ where: { id: agent.tokenId, revokedAt: null }, data: { revokedAt: new Date() } });
        // Two concurrent rotations with the same token: only the first gets a new one.
        if (revoked.count !== 1) throw unauthorized('A valid agent bearer token is required.');
        const created = await tx.agentToken.create({ data: { agentId: agent.id, tokenHash: sha256Hex(token) } });
        await endWaitingPolls(tx, [agent.id]);
        await recordAudit(tx, { actor: { type: 'agent', id: agent.id }, action: 'agent.token.rotate', targetType: 'agent', targetId: agent.id, details: { rotatedFrom: agent.tokenId, rotatedTo: created.id }, context });
      });
      return { token };
    },

    async list(scope: OrgScope, query: ListQuery): Promise<Page<AgentView>> {
      const page = await pageIds(prisma, 'agents', Prisma.sql`organization_id = ${scope.orgId}::uuid AND revoked_at IS NULL`, query);
      const rows = await prisma.agent.findMany({ where: { id: { in: page.ids } } });
      return { items: inIdOrder(page.ids, rows).map(present), nextCursor: page.nextCursor };
    },

    async get(scope: OrgScope, id: string): Promise<AgentView> {
      return present(await orgAgent(prisma, scope, id));
    },

    async rename(scope: OrgScope, id: string, name: string, context: RequestContext): Promise<AgentView> {
      const user = { id: scope.userId };
      return prisma.$transaction(async (tx) => {
        const before = await orgAgent(tx, scope, id, true);
        const after = await tx.agent.update({ where: { id }, data: { name } });
        await recordAudit(tx, { actor: { type: 'user', id: user.id }, action: 'agent.update', targetType: 'agent', targetId: id, changes: changes(before, { name }), context });
        return present(after);
      });
    },

    /** Soft delete: the row stays for the audit trail and command history; every token dies now. */
    async remove(scope: OrgScope, id: string, context: RequestContext): Promise<void> {
      const user = { id: scope.userId };
      await prisma.$transaction(async (tx) => {
        await orgAgent(tx, scope, id, true);
        const now = new Date();
        await tx.agent.update({ where: { id }, data: { revokedAt: now } });
        const tokens = await tx.agentToken.updateMany({ where: { agentId: id, revokedAt: null }, data: { revokedAt: now } });
        await endWaitingPolls(tx, [id]);
        await recordAudit(tx, { actor: { type: 'user', id: user.id }, action: 'agent.delete', targetType: 'agent', targetId: id, details: { revokedCount: tokens.count }, context });
        await recordEvent(tx, { organizationId: scope.orgId, type: 'agent.deleted', subjectId: id });
      });
    },
  };
}
