// API keys over real HTTP: shown once and stored hashed, scopes capped by the member's current
// role at use time (demotion bites at once), removal kills a key mid-use, Bearer without CSRF,
// attribution in the audit log, per-key rate limit, one organization per key.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../src/platform/secrets.ts';
import { createLoggedInUser, randomDeviceId } from '../support/factories.ts';
import { csrf, heartbeat, startFleetApp } from '../support/fleet.ts';
import { createTeam, type Member, type Team } from '../support/orgs.ts';
import { testConfig, type TestApp } from '../support/test-app.ts';

let app: TestApp;
let team: Team;
beforeAll(async () => {
  app = await startFleetApp();
  team = await createTeam(app);
});
afterAll(() => app.stop());

async function createKey(member: Member, orgId: string, body: Record<string, unknown>) {
  const res = await member.agent.post(`/api/orgs/${orgId}/api-keys`).set(csrf(member)).send({ name: 'ci', ...body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return { id: res.body.id as string, bearer: `Bearer ${res.body.key as string}`, body: res.body };
}

/** A dongle the team's agent reports right now, ready to be claimed. */
async function reportedDongle(t: Team) {
  const deviceId = randomDeviceId();
  await heartbeat(app, t.agentAuth, [deviceId]);
  return deviceId;
}

describe('creating keys', () => {
  it('shows the key once and stores only its hash; default expiry 90 days', async () => {
    const { id, body } = await createKey(team.operator, team.orgId, { scope: 'operate' });
    expect(body.key).toMatch(/^fk_[A-Za-z0-9_-]{40,}$/);
    const row = await app.db.prisma.apiKey.findUniqueOrThrow({ where: { id } });
    expect(row.keyHash).toBe(sha256Hex(body.key));
    expect(JSON.stringify(row)).not.toContain(body.key);
    const days = (row.expiresAt.getTime() - row.createdAt.getTime()) / (24 * 3600_000);
    expect(Math.round(days)).toBe(90);
    const list = await team.operator.agent.get(`/api/orgs/${team.orgId}/api-keys`);
    expect(JSON.stringify(list.body)).not.toContain(body.key);
    expect(list.body.items.map((k: { id: string }) => k.id)).toContain(id);
    const audit = await app.db.prisma.auditLog.findFirst({ where: { action: 'organization.api_key.create', targetId: id } });
    expect(audit?.organizationId).toBe(team.orgId);
    expect(JSON.stringify(audit)).not.toContain(body.key);
  });

  it('refuses a scope above the role (403) and an expiry beyond one year (422)', async () => {
    const above = await team.operator.agent.post(`/api/orgs/${team.orgId}/api-keys`).set(csrf(team.operator)).send({ name: 'x', scope: 'admin' });
    expect(above.status).toBe(403);
    expect(above.body.error.code).toBe('scope_exceeds_role');
    const long = await team.operator.agent.post(`/api/orgs/${team.orgId}/api-keys`).set(csrf(team.operator)).send({ name: 'x', scope: 'read', expiresInDays: 366 });
    expect(long.status).toBe(422);
  });

  it('does not let a key mint keys', async () => {
    const { bearer } = await createKey(team.admin, team.orgId, { scope: 'admin' });
    const res = await app.http.post(`/api/orgs/${team.orgId}/api-keys`).set('Authorization', bearer).send({ name: 'child', scope: 'read' });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('session_required');
  });
});

describe('using keys', () => {
  it('authenticates operator routes with Bearer and no CSRF; every change names the key in the audit log', async () => {
    const { id, bearer } = await createKey(team.operator, team.orgId, { scope: 'operate' });
    const deviceId = await reportedDongle(team);
    const claimed = await app.http.post(`/api/orgs/${team.orgId}/dongles/claim`).set('Authorization', bearer).send({ deviceId });
    expect(claimed.status, JSON.stringify(claimed.body)).toBe(202);
    const audit = await app.db.prisma.auditLog.findFirstOrThrow({ where: { action: 'dongle.claim', targetId: claimed.body.id } });
    expect(audit.actorId).toBe(team.operator.user.id);
    expect(audit.organizationId).toBe(team.orgId);
    expect(audit.details).toMatchObject({ actorKeyId: id });
    const row = await app.db.prisma.apiKey.findUniqueOrThrow({ where: { id } });
    expect(row.lastUsedAt).not.toBeNull();
    expect(row.lastUsedIp).toMatch(/127\.0\.0\.1/);
  });

  it('acts in the key’s organization on the unscoped routes, and nowhere else', async () => {
    const { bearer } = await createKey(team.viewer, team.orgId, { scope: 'read' });
    const unscoped = await app.http.get('/api/agents').set('Authorization', bearer);
    expect(unscoped.body.items.map((a: { id: string }) => a.id)).toEqual([team.agentRow.id]);
    // The viewer's personal organization exists, but the key does not reach it.
    const personal = (await team.viewer.agent.get('/api/orgs')).body.items.find((o: { personal: boolean }) => o.personal).id;
    expect((await app.http.get(`/api/orgs/${personal}/agents`).set('Authorization', bearer)).status).toBe(404);
    // Nor routes without an organization permission (account, admin).
    expect((await app.http.get('/api/me/sessions').set('Authorization', bearer)).status).toBe(401);
  });

  it('a read key may read but not change (403)', async () => {
    const { bearer } = await createKey(team.operator, team.orgId, { scope: 'read' });
    expect((await app.http.get(`/api/orgs/${team.orgId}/dongles`).set('Authorization', bearer)).status).toBe(200);
    const res = await app.http.post(`/api/orgs/${team.orgId}/dongles/claim`).set('Authorization', bearer).send({ deviceId: randomDeviceId() });
    expect(res.status).toBe(403);
  });

  it('loses power at once when its member is demoted, and gets it back only up to the key’s scope', async () => {
    const t = await createTeam(app);
    const { bearer } = await createKey(t.operator, t.orgId, { scope: 'operate' });
    expect((await app.http.post(`/api/orgs/${t.orgId}/dongles/claim`).set('Authorization', bearer).send({ deviceId: await reportedDongle(t) })).status).toBe(202);
    const demoted = await t.admin.agent.patch(`/api/orgs/${t.orgId}/members/${t.operator.user.id}`).set(csrf(t.admin)).send({ role: 'viewer' });
    expect(demoted.status).toBe(200);
    expect((await app.http.post(`/api/orgs/${t.orgId}/dongles/claim`).set('Authorization', bearer).send({ deviceId: await reportedDongle(t) })).status).toBe(403);
    expect((await app.http.get(`/api/orgs/${t.orgId}/dongles`).set('Authorization', bearer)).status).toBe(200);
    // Promoted to admin: the operate key still cannot manage members.
    await t.owner.agent.patch(`/api/orgs/${t.orgId}/members/${t.operator.user.id}`).set(csrf(t.owner)).send({ role: 'admin' });
    expect((await app.http.get(`/api/orgs/${t.orgId}/invitations`).set('Authorization', bearer)).status).toBe(403);
    expect((await app.http.post(`/api/orgs/${t.orgId}/dongles/claim`).set('Authorization', bearer).send({ deviceId: await reportedDongle(t) })).status).toBe(202);
  });

  it('dies mid-use when its member is removed: the next request is 401 and the key is revoked', async () => {
    const t = await createTeam(app);
    const { id, bearer } = await createKey(t.operator, t.orgId, { scope: 'operate' });
    const reads = async () => (await app.http.get(`/api/orgs/${t.orgId}/dongles`).set('Authorization', bearer)).status;
    expect(await reads()).toBe(200);
    expect((await t.admin.agent.delete(`/api/orgs/${t.orgId}/members/${t.operator.user.id}`).set(csrf(t.admin))).status).toBe(204);
    expect(await reads()).toBe(401);
    expect((await app.db.prisma.apiKey.findUniqueOrThrow({ where: { id } })).revokedAt).not.toBeNull();
    const removal = await app.db.prisma.auditLog.findFirstOrThrow({ where: { action: 'organization.member.remove', targetId: t.operator.user.id } });
    expect(removal.details).toMatchObject({ keysRevoked: 1 });
  });

  it('stops working when revoked or expired', async () => {
    const { id, bearer } = await createKey(team.operator, team.orgId, { scope: 'read' });
    const revoked = await team.operator.agent.delete(`/api/orgs/${team.orgId}/api-keys/${id}`).set(csrf(team.operator));
    expect(revoked.body.revokedAt).not.toBeNull();
    expect((await app.http.get('/api/dongles').set('Authorization', bearer)).status).toBe(401);
    const other = await createKey(team.operator, team.orgId, { scope: 'read', expiresInDays: 1 });
    await app.db.prisma.apiKey.update({ where: { id: other.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    const expired = await app.http.get('/api/dongles').set('Authorization', other.bearer);
    expect(expired.status).toBe(401);
    expect(expired.body.error.code).toBe('invalid_api_key');
  });

  it("lets an admin list and revoke a member's key; another member's key is a 404 to an operator", async () => {
    const { id } = await createKey(team.viewer, team.orgId, { scope: 'read' });
    expect((await team.operator.agent.delete(`/api/orgs/${team.orgId}/api-keys/${id}`).set(csrf(team.operator))).status).toBe(404);
    const all = await team.admin.agent.get(`/api/orgs/${team.orgId}/api-keys`);
    expect(all.body.items.map((k: { id: string }) => k.id)).toContain(id);
    const revoked = await team.admin.agent.delete(`/api/orgs/${team.orgId}/api-keys/${id}`).set(csrf(team.admin));
    expect(revoked.status).toBe(200);
    const audit = await app.db.prisma.auditLog.findFirstOrThrow({ where: { action: 'organization.api_key.revoke', targetId: id } });
    expect(audit.actorId).toBe(team.admin.user.id);
  });
});

describe('rate limit per key', () => {
  it('answers 429 past the limit for that key only', async () => {
    const base = testConfig();
    const limited = await startFleetApp({ rateLimits: { ...base.rateLimits, apiKey: { limit: 3, windowSeconds: 60 } } });
    try {
      const owner = await createLoggedInUser(limited.db, limited.url);
      const orgId = (await owner.agent.get('/api/orgs')).body.items[0].id;
      const make = async () => `Bearer ${(await owner.agent.post(`/api/orgs/${orgId}/api-keys`).set(csrf(owner)).send({ name: 'k', scope: 'read' })).body.key}`;
      const [a, b] = [await make(), await make()];
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await limited.http.get('/api/dongles').set('Authorization', a)).status);
      expect(statuses).toEqual([200, 200, 200, 429]);
      expect((await limited.http.get('/api/dongles').set('Authorization', b)).status).toBe(200);
    } finally {
      await limited.stop();
    }
  });
});
