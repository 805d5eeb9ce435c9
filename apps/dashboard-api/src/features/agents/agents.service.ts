// Desktop agents: enrollment with a one-time code, bearer tokens (stored as SHA-256 only),
// heartbeats, and the operator's list / rename / delete. Every change is audited in its
// own transaction; another user's agent is a 404.
import type { Config } from '../../config.ts';
import { Prisma } from '../../generated/prisma/client.ts';
import type { Database, Tx } from '../../platform/database.ts';
import { badRequest, notFound, unauthorized } from '../../platform/errors.ts';
import { inIdOrder, pageIds, type ListQuery, type Page } from '../../platform/pagination.ts';
import { generateSecret, sha256Hex } from '../../platform/secrets.ts';
import { changes, recordAudit, type RequestContext } from '../audit/audit.writer.ts';
import type { AgentPrincipal, SessionUser } from '../auth/principal.ts';
import { recordDongleSightings, type ReportedDongle } from '../dongles/dongle-sightings.ts';
import { lastSeenThrottleMs, touchAgentLastSeen } from './agent-presence.ts';
import { presentAgent } from './agents.presenter.ts';
import type { AgentView, EnrollBody, HeartbeatBody } from './agents.schemas.ts';

export const ENROLLMENT_CODE_TTL_MS = 10 * 60_000;

export type AgentsService = ReturnType<typeof createAgentsService>;

export function createAgentsService(deps: { db: Database; config: Pick<Config, 'agentPollIntervalMs'> }) {
  const { prisma } = deps.db;
  const pollIntervalMs = deps.config.agentPollIntervalMs;
  const present = (agent: Parameters<typeof presentAgent>[0]) => presentAgent(agent, pollIntervalMs);

  /** The caller's own, not deleted agent, or 404 (also for someone else's). */
  async function ownAgent(client: Tx | typeof prisma, user: SessionUser, id: string, lock = false) {
    // The owner condition is part of the locking query: someone else's agent is never locked.
    if (lock) await client.$queryRaw`SELECT id FROM agents WHERE id = ${id}::uuid AND user_id = ${user.id}::uuid AND revoked_at IS NULL FOR UPDATE`;
    const agent = await client.agent.findFirst({ where: { id, userId: user.id, revokedAt: null } });
    if (!agent) throw notFound('Agent');
    return agent;
  }

  return {
    async createEnrollmentCode(user: SessionUser, context: RequestContext) {
      const code = generateSecret();
      const expiresAt = new Date(Date.now() + ENROLLMENT_CODE_TTL_MS);
      await prisma.$transaction(async (tx) => {
        const row = await tx.agentEnrollmentCode.create({ data: { userId: user.id, codeHash: sha256Hex(code), expiresAt } });
        await recordAudit(tx, { actor: { type: 'user', id: user.id }, action: 'agent.enrollment_code.create', targetType: 'agent_enrollment_code', targetId: row.id, details: { expiresAt: expiresAt.toISOString() }, context });
      });
      return { code, expiresAt: expiresAt.toISOString() };
    },

    /** Redeems the code atomically (one winner under concurrency) and issues the agent's first token. */
    async enroll(input: EnrollBody, context: RequestContext) {
      const codeHash = sha256Hex(input.code);
      const token = generateSecret();
      const agentId = await prisma.$transaction(async (tx) => {
        const [redeemed] = await tx.$queryRaw<Array<{ id: string; user_id: string }>>`
          UPDATE agent_enrollment_codes c SET used_at = now()
          FROM users u
          WHERE c.code_hash = ${codeHash} AND c.used_at IS NULL AND c.expires_at > now()
            AND u.id = c.user_id AND u.status = 'active' AND u.email_verified_at IS NOT NULL
          RETURNING c.id::text AS id, c.user_id::text AS user_id`;
        if (!redeemed) return null;
        const agent = await tx.agent.create({
          data: { userId: redeemed.user_id, name: input.name, hostname: input.hostname, os: input.os, version: input.version, tokens: { create: { tokenHash: sha256Hex(token) } } },
        });
        await tx.agentEnrollmentCode.update({ where: { id: redeemed.id }, data: { agentId: agent.id } });
        await recordAudit(tx, {
          actor: { type: 'agent', id: agent.id },
          action: 'agent.enroll',
          targetType: 'agent',
          targetId: agent.id,
          details: { ownerUserId: redeemed.user_id, enrollmentCodeId: redeemed.id, name: input.name, hostname: input.hostname, os: input.os, version: input.version },
          context,
        });
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
      const owned = await recordDongleSightings(prisma, agent, reported, { throttleMs: lastSeenThrottleMs(pollIntervalMs), context });
      return { pollIntervalSeconds: Math.round(pollIntervalMs / 1000), dongles: owned };
    },

    /** The old token dies in the same transaction that creates the new one. */
    async rotateToken(agent: AgentPrincipal, context: RequestContext) {
      const token = generateSecret();
      await prisma.$transaction(async (tx) => {
        const revoked = await tx.agentToken.updateMany({ where: { id: agent.tokenId, revokedAt: null }, data: { revokedAt: new Date() } });
        // Two concurrent rotations with the same token: only the first gets a new one.
        if (revoked.count !== 1) throw unauthorized('A valid agent bearer token is required.');
        const created = await tx.agentToken.create({ data: { agentId: agent.id, tokenHash: sha256Hex(token) } });
        await recordAudit(tx, { actor: { type: 'agent', id: agent.id }, action: 'agent.token.rotate', targetType: 'agent', targetId: agent.id, details: { rotatedFrom: agent.tokenId, rotatedTo: created.id }, context });
      });
      return { token };
    },

    async list(user: SessionUser, query: ListQuery): Promise<Page<AgentView>> {
      const page = await pageIds(prisma, 'agents', Prisma.sql`user_id = ${user.id}::uuid AND revoked_at IS NULL`, query);
      const rows = await prisma.agent.findMany({ where: { id: { in: page.ids } } });
      return { items: inIdOrder(page.ids, rows).map(present), nextCursor: page.nextCursor };
    },

    async get(user: SessionUser, id: string): Promise<AgentView> {
      return present(await ownAgent(prisma, user, id));
    },

    async rename(user: SessionUser, id: string, name: string, context: RequestContext): Promise<AgentView> {
      return prisma.$transaction(async (tx) => {
        const before = await ownAgent(tx, user, id, true);
        const after = await tx.agent.update({ where: { id }, data: { name } });
        await recordAudit(tx, { actor: { type: 'user', id: user.id }, action: 'agent.update', targetType: 'agent', targetId: id, changes: changes(before, { name }), context });
        return present(after);
      });
    },

    /** Soft delete: the row stays for the audit trail and command history; every token dies now. */
    async remove(user: SessionUser, id: string, context: RequestContext): Promise<void> {
      await prisma.$transaction(async (tx) => {
        await ownAgent(tx, user, id, true);
        const now = new Date();
        await tx.agent.update({ where: { id }, data: { revokedAt: now } });
        const tokens = await tx.agentToken.updateMany({ where: { agentId: id, revokedAt: null }, data: { revokedAt: now } });
        await recordAudit(tx, { actor: { type: 'user', id: user.id }, action: 'agent.delete', targetType: 'agent', targetId: id, details: { revokedCount: tokens.count }, context });
      });
    },
  };
}
