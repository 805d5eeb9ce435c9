// Agents over HTTP: enrollment codes, enrollment, bearer tokens, heartbeat, liveness,
// list/get/rename/delete and token rotation.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgent, createLoggedInUser, randomDeviceId } from '../../../test/support/factories.ts';
import { csrf, startFleetApp } from '../../../test/support/fleet.ts';
import { startTestApp, type TestApp } from '../../../test/support/test-app.ts';
import { sha256Hex } from '../../platform/secrets.ts';
import { touchAgentLastSeen } from './agent-presence.ts';

let app: TestApp;
beforeAll(async () => {
  app = await startFleetApp();
});
afterAll(() => app.stop());

const enrollment = { name: 'bench-pc', hostname: 'bench.local', os: 'linux', version: '1.2.0' };

async function newCode(operator: Awaited<ReturnType<typeof createLoggedInUser>>) {
  const res = await operator.agent.post('/api/agents/enrollment-codes').set(csrf(operator)).send({});
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { code: string; expiresAt: string };
}

async function enrolled(operator: Awaited<ReturnType<typeof createLoggedInUser>>) {
  const { code } = await newCode(operator);
  const res = await app.http.post('/api/agent/enroll').send({ code, ...enrollment });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return { agentId: res.body.agentId as string, authorization: `Bearer ${res.body.token as string}` };
}

describe('enrollment codes', () => {
  it('gives a verified user a one-time code valid for 10 minutes, stored only as a hash', async () => {
    const operator = await createLoggedInUser(app.db, app.url);
    const before = Date.now();
    const { code, expiresAt } = await newCode(operator);
    const ttl = new Date(expiresAt).getTime() - before;
    expect(ttl).toBeGreaterThan(9 * 60_000);
    expect(ttl).toBeLessThanOrEqual(10 * 60_000 + 5_000);
    const row = await app.db.prisma.agentEnrollmentCode.findUnique({ where: { codeHash: sha256Hex(code) } });
    expect(row?.userId).toBe(operator.user.id);
    const stored = JSON.stringify(await app.db.prisma.agentEnrollmentCode.findMany({ where: { userId: operator.user.id } }));
    expect(stored).not.toContain(code);
  });

  it('refuses an unverified user with 403 email_unverified', async () => {
    const operator = await createLoggedInUser(app.db, app.url, { verified: false });
    const res = await operator.agent.post('/api/agents/enrollment-codes').set(csrf(operator)).send({});
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('email_unverified');
  });

  it('refuses a request without the CSRF token', async () => {
    const operator = await createLoggedInUser(app.db, app.url);
    expect((await operator.agent.post('/api/agents/enrollment-codes').send({})).status).toBe(403);
  });
});

describe('POST /api/agent/enroll', () => {
  it('enrolls with a code and returns a working bearer token, stored only as SHA-256', async () => {
    const operator = await createLoggedInUser(app.db, app.url);
    const { code } = await newCode(operator);
    const res = await app.http.post('/api/agent/enroll').send({ code, ...enrollment });
    expect(res.status).toBe(201);
    expect(Object.keys(res.body).sort()).toEqual(['agentId', 'token']);
    const agent = await app.db.prisma.agent.findUniqueOrThrow({ where: { id: res.body.agentId }, include: { tokens: true } });
    expect(agent.userId).toBe(operator.user.id);
    expect(agent.tokens.map((t) => t.tokenHash)).toEqual([sha256Hex(res.body.token)]);
    const hb = await app.http.post('/api/agent/heartbeat').set('Authorization', `Bearer ${res.body.token}`).send({ version: '1.2.0', dongles: [] });
    expect(hb.status).toBe(200);
    const audit = await app.db.prisma.auditLog.findFirst({ where: { action: 'agent.enroll', targetId: agent.id } });
    expect(audit?.actorType).toBe('agent');
    expect(JSON.stringify(audit)).not.toContain(code);
  });

  it('answers a used code with 400 invalid_code', async () => {
    const operator = await createLoggedInUser(app.db, app.url);
    const { code } = await newCode(operator);
    expect((await app.http.post('/api/agent/enroll').send({ code, ...enrollment })).status).toBe(201);
    const again = await app.http.post('/api/agent/enroll').send({ code, ...enrollment });
    expect(again.status).toBe(400);
    expect(again.body.error.code).toBe('invalid_code');
  });

  it('answers an expired code with 400 invalid_code', async () => {
    const operator = await createLoggedInUser(app.db, app.url);
    const { code } = await newCode(operator);
    const codeRow = await app.db.prisma.agentEnrollmentCode.update({ where: { codeHash: sha256Hex(code) }, data: { expiresAt: new Date(Date.now() - 1000) } });
    const res = await app.http.post('/api/agent/enroll').send({ code, ...enrollment });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_code');
    // This test's own failure row, not any other test's.
    const failures = await app.db.prisma.auditLog.count({ where: { action: 'agent.enroll', result: 'failure', targetType: 'agent_enrollment_code', targetId: codeRow.id } });
    expect(failures).toBe(1);
  });

  it('answers an unknown code with 400 invalid_code', async () => {
    const res = await app.http.post('/api/agent/enroll').send({ code: 'not-a-real-code-at-all', ...enrollment });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_code');
  });

  it('redeems a code exactly once under ten concurrent enrollments', async () => {
    const operator = await createLoggedInUser(app.db, app.url);
    const { code } = await newCode(operator);
    const results = await Promise.all(Array.from({ length: 10 }, () => app.http.post('/api/agent/enroll').send({ code, ...enrollment })));
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    expect(results.filter((r) => r.status === 400)).toHaveLength(9);
    expect(await app.db.prisma.agent.count({ where: { userId: operator.user.id } })).toBe(1);
  });

  it('refuses unknown keys and missing fields with 422 naming them', async () => {
    const res = await app.http.post('/api/agent/enroll').send({ code: 'x', name: 'pc', userId: 'someone' });
    expect(res.status).toBe(422);
    const paths = (res.body.error.details as Array<{ path: string }>).map((d) => d.path);
    expect(paths).toEqual(expect.arrayContaining(['body.hostname', 'body.os', 'body.version', 'body']));
  });

  it('rate-limits enrollment attempts per IP with 429 and Retry-After', async () => {
    const limited = await startTestApp({ config: { trustProxyHops: 1, rateLimits: { ...app.config.rateLimits, enrollIp: { limit: 3, windowSeconds: 600 } } } });
    try {
      const ip = `10.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}.7`;
      const attempt = () => limited.http.post('/api/agent/enroll').set('X-Forwarded-For', ip).send({ code: 'guess-guess-guess', ...enrollment });
      for (let i = 0; i < 3; i++) expect((await attempt()).status).toBe(400);
      const refused = await attempt();
      expect(refused.status).toBe(429);
      expect(refused.headers['retry-after']).toBeDefined();
      const otherIp = await limited.http.post('/api/agent/enroll').set('X-Forwarded-For', '192.0.2.99').send({ code: 'guess', ...enrollment });
      expect(otherIp.status).toBe(400);
    } finally {
      await limited.stop();
    }
  });
});

describe('bearer authentication', () => {
  it('refuses a missing, malformed or unknown token with 401', async () => {
    expect((await app.http.post('/api/agent/heartbeat').send({ version: '1', dongles: [] })).status).toBe(401);
    expect((await app.http.post('/api/agent/heartbeat').set('Authorization', 'Basic abc').send({ version: '1', dongles: [] })).status).toBe(401);
    expect((await app.http.post('/api/agent/heartbeat').set('Authorization', 'Bearer aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa').send({ version: '1', dongles: [] })).status).toBe(401);
  });

  it("refuses an agent whose owner is suspended", async () => {
    const operator = await createLoggedInUser(app.db, app.url);
    const { authorization } = await enrolled(operator);
    await app.db.prisma.user.update({ where: { id: operator.user.id }, data: { status: 'suspended' } });
    expect((await app.http.post('/api/agent/heartbeat').set('Authorization', authorization).send({ version: '1', dongles: [] })).status).toBe(401);
  });
});

describe('heartbeat', () => {
  it('sets the agent and dongle last seen and creates unknown dongles UNCLAIMED, normalising device ids', async () => {
    const operator = await createLoggedInUser(app.db, app.url);
    const { agentId, authorization } = await enrolled(operator);
    const a = randomDeviceId();
    const b = randomDeviceId();
    const res = await app.http
      .post('/api/agent/heartbeat')
      .set('Authorization', authorization)
      .send({ version: '1.3.0', dongles: [{ deviceId: `  ${a.toUpperCase()} `, firmwareVersion: 'fw-2' }, { deviceId: b }] });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ pollIntervalSeconds: 30, dongles: [] });
    const dongles = await app.db.prisma.dongle.findMany({ where: { deviceId: { in: [a, b] } }, orderBy: { deviceId: 'asc' } });
    expect(dongles).toHaveLength(2);
    for (const dongle of dongles) {
      expect(dongle.ownershipState).toBe('UNCLAIMED');
      expect(dongle.ownerUserId).toBeNull();
      expect(dongle.lastSeenAgentId).toBe(agentId);
      expect(dongle.lastSeenAt).not.toBeNull();
    }
    expect(dongles.find((d) => d.deviceId === a)?.firmwareVersion).toBe('fw-2');
    const agent = await app.db.prisma.agent.findUniqueOrThrow({ where: { id: agentId } });
    expect(agent.version).toBe('1.3.0');
    expect(agent.lastSeenAt).not.toBeNull();
    expect(await app.db.prisma.auditLog.count({ where: { action: 'dongle.discover', targetId: { in: dongles.map((d) => d.id) } } })).toBe(2);
  });

  it('writes nothing when nothing changed and last seen is recent', async () => {
    const operator = await createLoggedInUser(app.db, app.url);
    const { agentId, authorization } = await enrolled(operator);
    const deviceId = randomDeviceId();
    const beat = () => app.http.post('/api/agent/heartbeat').set('Authorization', authorization).send({ version: '1.2.0', dongles: [{ deviceId }] });
    expect((await beat()).status).toBe(200);
    // xmin changes on any write to the row, even one that leaves every column as it was.
    const xmin = async () => ({
      agent: (await app.db.pool.query<{ xmin: string }>('SELECT xmin::text AS xmin FROM agents WHERE id = $1', [agentId])).rows[0]!.xmin,
      token: (await app.db.pool.query<{ xmin: string }>('SELECT xmin::text AS xmin FROM agent_tokens WHERE agent_id = $1', [agentId])).rows[0]!.xmin,
      dongle: (await app.db.pool.query<{ xmin: string }>('SELECT xmin::text AS xmin FROM dongles WHERE device_id = $1', [deviceId])).rows[0]!.xmin,
    });
    const before = await xmin();
    expect((await beat()).status).toBe(200);
    expect(await xmin()).toEqual(before);
  });

  it('skips the database entirely when last seen is recent and the version is unchanged', async () => {
    const refuse = { $executeRaw: () => { throw new Error('touchAgentLastSeen wrote although nothing changed'); } } as unknown as Parameters<typeof touchAgentLastSeen>[0];
    const principal = { id: randomUUID(), userId: randomUUID(), organizationId: randomUUID(), tokenId: randomUUID(), lastSeenAt: new Date(), version: '1.2.0' };
    expect(await touchAgentLastSeen(refuse, principal, { pollIntervalMs: 30_000, version: '1.2.0' })).toBe(false);
    expect(await touchAgentLastSeen(refuse, principal, { pollIntervalMs: 30_000 })).toBe(false);
    await expect(touchAgentLastSeen(refuse, principal, { pollIntervalMs: 30_000, version: '1.3.0' })).rejects.toThrow(/wrote/);
  });

  it('writes again once last seen is older than half the poll interval', async () => {
    const operator = await createLoggedInUser(app.db, app.url);
    const { agent, token } = await createAgent(app.db, operator.user.id);
    const stale = new Date(Date.now() - 20_000);
    await app.db.prisma.agent.update({ where: { id: agent.id }, data: { lastSeenAt: stale } });
    const tokenRow = await app.db.prisma.agentToken.findFirstOrThrow({ where: { agentId: agent.id } });
    const written = await touchAgentLastSeen(app.db.prisma, { id: agent.id, userId: operator.user.id, organizationId: agent.organizationId, tokenId: tokenRow.id, lastSeenAt: stale, version: null }, { pollIntervalMs: 30_000 });
    expect(written).toBe(true);
    const after = await app.db.prisma.agent.findUniqueOrThrow({ where: { id: agent.id } });
    expect(after.lastSeenAt!.getTime()).toBeGreaterThan(stale.getTime());
    expect((await app.db.prisma.agentToken.findUniqueOrThrow({ where: { id: tokenRow.id } })).lastUsedAt).not.toBeNull();
    // The token row touched is the one this agent's bearer token names.
    expect(tokenRow.tokenHash).toBe(sha256Hex(token));
  });

  it('reports the state of reported dongles the agent’s owner owns, and nothing about others', async () => {
    const operator = await createLoggedInUser(app.db, app.url);
    const { authorization } = await enrolled(operator);
    const mine = randomDeviceId();
    const theirs = randomDeviceId();
    const stranger = await createLoggedInUser(app.db, app.url);
    await app.db.prisma.dongle.create({ data: { deviceId: mine, ownerUserId: operator.user.id, ownershipState: 'RELEASE_PENDING' } });
    await app.db.prisma.dongle.create({ data: { deviceId: theirs, ownerUserId: stranger.user.id, ownershipState: 'CLAIMED_ACTIVE' } });
    const res = await app.http.post('/api/agent/heartbeat').set('Authorization', authorization).send({ version: '1', dongles: [{ deviceId: mine }, { deviceId: theirs }] });
    expect(res.body.dongles).toEqual([{ deviceId: mine, state: 'RELEASE_PENDING' }]);
  });

  it('answers a malformed device id, too many dongles or unknown keys with 422 naming the field', async () => {
    const operator = await createLoggedInUser(app.db, app.url);
    const { authorization } = await enrolled(operator);
    const bad = await app.http.post('/api/agent/heartbeat').set('Authorization', authorization).send({ version: '1', dongles: [{ deviceId: 'xyz' }, { deviceId: randomDeviceId(), ownerUserId: 'x' }] });
    expect(bad.status).toBe(422);
    const paths = (bad.body.error.details as Array<{ path: string }>).map((d) => d.path);
    expect(paths).toEqual(expect.arrayContaining(['body.dongles.0.deviceId', 'body.dongles.1']));
    const many = await app.http.post('/api/agent/heartbeat').set('Authorization', authorization).send({ version: '1', dongles: Array.from({ length: 65 }, () => ({ deviceId: randomDeviceId() })) });
    expect(many.status).toBe(422);
  });
});

describe('operator agent routes', () => {
  it('lists my agents newest first with online derived from last seen, paginated by cursor', async () => {
    const operator = await createLoggedInUser(app.db, app.url);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await createAgent(app.db, operator.user.id, `pc-${i}`)).agent.id);
    await app.db.prisma.agent.update({ where: { id: ids[0]! }, data: { lastSeenAt: new Date(Date.now() - 61_000) } });
    await createAgent(app.db, (await createLoggedInUser(app.db, app.url)).user.id, 'not-mine');

    const first = await operator.agent.get('/api/agents?limit=2');
    expect(first.status).toBe(200);
    expect(first.body.items).toHaveLength(2);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await operator.agent.get(`/api/agents?limit=2&cursor=${first.body.nextCursor}`);
    expect(second.body.items).toHaveLength(1);
    expect(second.body.nextCursor).toBeNull();
    const all = [...first.body.items, ...second.body.items];
    expect(all.map((a: { id: string }) => a.id)).toEqual([...ids].reverse());
    const stale = all.find((a: { id: string }) => a.id === ids[0]);
    expect(stale.online).toBe(false);
    expect(all.find((a: { id: string }) => a.id === ids[1]).online).toBe(true);
    expect(JSON.stringify(all)).not.toMatch(/userId|tokenHash/);
  });

  it('answers a forged cursor or a limit over 200 with 422', async () => {
    const operator = await createLoggedInUser(app.db, app.url);
    expect((await operator.agent.get('/api/agents?cursor=bm9wZQ')).status).toBe(422);
    expect((await operator.agent.get('/api/agents?limit=201')).status).toBe(422);
  });

  it('renames an agent, audited with the change', async () => {
    const operator = await createLoggedInUser(app.db, app.url);
    const { agent } = await createAgent(app.db, operator.user.id);
    const res = await operator.agent.patch(`/api/agents/${agent.id}`).set(csrf(operator)).send({ name: '  lab bench  ' });
    expect(res.status).toBe(200);
    expect(res.body.name).toBe('lab bench');
    const audit = await app.db.prisma.auditLog.findFirstOrThrow({ where: { action: 'agent.update', targetId: agent.id } });
    expect(audit.details).toMatchObject({ changes: { name: { to: 'lab bench' } } });
    expect((await operator.agent.patch(`/api/agents/${agent.id}`).set(csrf(operator)).send({ name: 'x', userId: operator.user.id })).status).toBe(422);
  });

  it('deletes an agent: its token stops working at once and it leaves the list', async () => {
    const operator = await createLoggedInUser(app.db, app.url);
    const { agentId, authorization } = await enrolled(operator);
    expect((await operator.agent.delete(`/api/agents/${agentId}`).set(csrf(operator))).status).toBe(204);
    expect((await app.http.post('/api/agent/heartbeat').set('Authorization', authorization).send({ version: '1', dongles: [] })).status).toBe(401);
    expect((await operator.agent.get(`/api/agents/${agentId}`)).status).toBe(404);
    expect((await operator.agent.get('/api/agents')).body.items).toEqual([]);
    const tokens = await app.db.prisma.agentToken.findMany({ where: { agentId } });
    expect(tokens.every((t) => t.revokedAt !== null)).toBe(true);
  });
});

describe('token rotation', () => {
  it('returns a new token and kills the old one at once', async () => {
    const operator = await createLoggedInUser(app.db, app.url);
    const { agentId, authorization } = await enrolled(operator);
    const res = await app.http.post('/api/agent/token/rotate').set('Authorization', authorization);
    expect(res.status).toBe(200);
    expect(res.body.token).toEqual(expect.any(String));
    expect((await app.http.post('/api/agent/heartbeat').set('Authorization', authorization).send({ version: '1', dongles: [] })).status).toBe(401);
    expect((await app.http.post('/api/agent/heartbeat').set('Authorization', `Bearer ${res.body.token}`).send({ version: '1', dongles: [] })).status).toBe(200);
    expect(await app.db.prisma.auditLog.count({ where: { action: 'agent.token.rotate', targetId: agentId } })).toBe(1);
    const audit = await app.db.prisma.auditLog.findFirstOrThrow({ where: { action: 'agent.token.rotate', targetId: agentId } });
    expect(JSON.stringify(audit)).not.toContain(res.body.token);
  });

  it('gives only one new token when the same token rotates twice at once', async () => {
    const operator = await createLoggedInUser(app.db, app.url);
    const { agentId, authorization } = await enrolled(operator);
    const results = await Promise.all([1, 2, 3].map(() => app.http.post('/api/agent/token/rotate').set('Authorization', authorization)));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(await app.db.prisma.agentToken.count({ where: { agentId, revokedAt: null } })).toBe(1);
  });
});
