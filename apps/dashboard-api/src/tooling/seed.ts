// `npm run db:seed`: a small demo fleet for a development database, so the dashboard has
// something to show on first start. Idempotent: every row is found by a fixed natural key
// (email, device id, agent name, the demo dongle's command type) and created only when missing, so running it
// again changes nothing (except resetting the demo operator's password to the printed one).
// Never for production: the password and agent tokens below are public.
import type { PasswordHasher } from '../features/auth/password-hashing.ts';
import { recordAudit } from '../platform/audit/audit-writer.ts';
import type { Database, Tx } from '../platform/database.ts';
import { sha256Hex } from '../platform/secrets.ts';
import { personalOrganizationId } from '../features/organizations/personal.ts';

export const DEMO_OPERATOR = { email: 'demo@fleet.local', password: 'demo-operator-password' } as const;

/** Known bearer tokens, so a developer can run a fake agent against the seeded fleet. */
export const DEMO_AGENTS = [
  { name: 'bench-pc', hostname: 'bench-pc.local', os: 'linux', version: '1.4.0', token: 'demo-agent-bench-pc-token-0001' },
  { name: 'lab-laptop', hostname: 'lab-laptop.local', os: 'windows', version: '1.3.2', token: 'demo-agent-lab-laptop-token-0002' },
] as const;

type OwnershipState = 'UNCLAIMED' | 'CLAIM_PENDING' | 'CLAIMED_ACTIVE' | 'RELEASE_PENDING';

/** One dongle per interesting state; the first two form the demo group. */
export const DEMO_DONGLES: { deviceId: string; name: string | null; state: OwnershipState; agent: number }[] = [
  { deviceId: 'dec0de0000000001', name: 'Front axle', state: 'CLAIMED_ACTIVE', agent: 0 },
  { deviceId: 'dec0de0000000002', name: 'Rear axle', state: 'CLAIMED_ACTIVE', agent: 0 },
  { deviceId: 'dec0de0000000003', name: 'Test rig', state: 'CLAIMED_ACTIVE', agent: 1 },
  { deviceId: 'dec0de0000000004', name: 'New arrival', state: 'CLAIM_PENDING', agent: 1 },
  { deviceId: 'dec0de0000000005', name: 'Returned unit', state: 'RELEASE_PENDING', agent: 1 },
  { deviceId: 'dec0de0000000006', name: null, state: 'UNCLAIMED', agent: 1 },
];

export class SeedRefusedError extends Error {
  override name = 'SeedRefusedError';
}

export interface SeedSummary {
  operator: { email: string; password: string };
  agentTokens: { name: string; token: string }[];
  /** What this run created; empty when the fleet was already there. */
  created: string[];
}

export async function seedDemoFleet(db: Database, hasher: PasswordHasher, env: { nodeEnv: string }): Promise<SeedSummary> {
  if (env.nodeEnv === 'production') throw new SeedRefusedError('db:seed refuses to run with NODE_ENV=production: it creates an account with a published password.');
  const passwordHash = await hasher.hash(DEMO_OPERATOR.password);
  const created: string[] = [];
  await db.prisma.$transaction(async (tx) => {
    const operatorId = await ensureOperator(tx, passwordHash, created);
    const agentIds = await ensureAgents(tx, operatorId, created);
    const dongleIds = await ensureDongles(tx, operatorId, agentIds, created);
    await ensureGroup(tx, operatorId, dongleIds[0]!, dongleIds[1]!, created);
    await ensureCanConfig(tx, dongleIds[0]!, created);
    await ensureCommands(tx, operatorId, agentIds[0]!, dongleIds[0]!, created);
    if (created.length > 0) {
      await recordAudit(tx, { actor: { type: 'system' }, action: 'dev.seed', targetType: 'user', targetId: operatorId, details: { created } });
    }
  });
  return { operator: { ...DEMO_OPERATOR }, agentTokens: DEMO_AGENTS.map(({ name, token }) => ({ name, token })), created };
}

async function ensureOperator(tx: Tx, passwordHash: string, created: string[]): Promise<string> {
  const existing = await tx.user.findUnique({ where: { email: DEMO_OPERATOR.email } });
  if (existing) {
    // Keep the printed password true even if someone changed it while developing.
    await tx.user.update({ where: { id: existing.id }, data: { passwordHash } });
    return existing.id;
  }
  const user = await tx.user.create({ data: { email: DEMO_OPERATOR.email, passwordHash, role: 'user', emailVerifiedAt: new Date() } });
  created.push(`user ${user.email}`);
  return user.id;
}

async function ensureAgents(tx: Tx, userId: string, created: string[]): Promise<string[]> {
  const ids: string[] = [];
  for (const spec of DEMO_AGENTS) {
    const tokenHash = sha256Hex(spec.token);
    const byToken = await tx.agentToken.findUnique({ where: { tokenHash }, select: { agentId: true } });
    if (byToken) {
      ids.push(byToken.agentId);
      continue;
    }
    const agent = await tx.agent.create({
      data: { userId, organizationId: await personalOrganizationId(tx, userId), name: spec.name, hostname: spec.hostname, os: spec.os, version: spec.version, lastSeenAt: new Date(), tokens: { create: { tokenHash } } },
    });
    created.push(`agent ${spec.name}`);
    ids.push(agent.id);
  }
  return ids;
}

async function ensureDongles(tx: Tx, ownerId: string, agentIds: string[], created: string[]): Promise<string[]> {
  const ids: string[] = [];
  for (const spec of DEMO_DONGLES) {
    const existing = await tx.dongle.findUnique({ where: { deviceId: spec.deviceId }, select: { id: true } });
    if (existing) {
      ids.push(existing.id);
      continue;
    }
    const dongle = await tx.dongle.create({
      data: {
        deviceId: spec.deviceId,
        name: spec.name,
        ownershipState: spec.state,
        ownerUserId: spec.state === 'UNCLAIMED' ? null : ownerId,
        lastSeenAgentId: agentIds[spec.agent],
        lastSeenAt: new Date(),
        firmwareVersion: '2.1.0',
      },
    });
    created.push(`dongle ${spec.deviceId} (${spec.state})`);
    ids.push(dongle.id);
  }
  return ids;
}

async function ensureGroup(tx: Tx, userId: string, dongleA: string, dongleB: string, created: string[]): Promise<void> {
  // A dongle is in at most one group, so "a group holding the first dongle" identifies the demo group.
  const existing = await tx.dongleGroupMember.findUnique({ where: { dongleId: dongleA } });
  if (existing) return;
  await tx.dongleGroup.create({ data: { userId, organizationId: await personalOrganizationId(tx, userId), name: 'Axles', dongleAId: dongleA, dongleBId: dongleB, mode: 'ACTIVE' } });
  created.push('group Axles');
}

async function ensureCanConfig(tx: Tx, dongleId: string, created: string[]): Promise<void> {
  const existing = await tx.canConfig.findUnique({ where: { dongleId } });
  if (existing) return;
  await tx.canConfig.create({ data: { dongleId, mode: 'NORMAL', nominalBitrate: 500_000, nominalSamplePoint: 87.5, termination: true, version: 1, appliedVersion: 1 } });
  created.push('CAN config for dec0de0000000001');
}

/** A finished PING, a failed REBOOT and a queued GET_STATUS, found again by type on the demo dongle. */
async function ensureCommands(tx: Tx, userId: string, agentId: string, dongleId: string, created: string[]): Promise<void> {
  const now = Date.now();
  const minutesAgo = (minutes: number) => new Date(now - minutes * 60_000);
  const commands = [
    { type: 'PING', payload: { echo: 'hello' }, status: 'SUCCEEDED', result: { echo: 'hello' }, createdAt: minutesAgo(30), deliveredAt: minutesAgo(30), completedAt: minutesAgo(30), agentId },
    { type: 'REBOOT', payload: {}, status: 'FAILED', error: 'dongle busy: capture running', createdAt: minutesAgo(20), deliveredAt: minutesAgo(20), completedAt: minutesAgo(20), agentId },
    { type: 'GET_STATUS', payload: {}, status: 'QUEUED', createdAt: new Date(now), expiresAt: new Date(now + 3_600_000) },
  ] as const;
  for (const command of commands) {
    const existing = await tx.command.findFirst({ where: { dongleId, type: command.type }, select: { id: true } });
    if (existing) continue;
    await tx.command.create({ data: { dongleId, organizationId: await personalOrganizationId(tx, userId), createdByUserId: userId, expiresAt: new Date(command.createdAt.getTime() + 60_000), ...command } });
    created.push(`command ${command.type} (${command.status})`);
  }
}
