// Dongles over HTTP: claim with proof of possession, the token exchange and its refusals,
// acks, release, admin force-release, and races on one dongle.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgent, createLoggedInUser, randomDeviceId } from '../../../test/support/factories.ts';
import { activeDongle, claim, createOperator, csrf, heartbeat, startFleetApp } from '../../../test/support/fleet.ts';
import type { TestApp } from '../../../test/support/test-app.ts';

let app: TestApp;
beforeAll(async () => {
  app = await startFleetApp();
});
afterAll(() => app.stop());

const dongleRow = (deviceId: string) => app.db.prisma.dongle.findUniqueOrThrow({ where: { deviceId }, include: { token: true } });
const exchange = (auth: string, deviceId: string) => app.http.post(`/api/agent/dongles/${deviceId}/token`).set('Authorization', auth);
const ackToken = (auth: string, deviceId: string) => app.http.post(`/api/agent/dongles/${deviceId}/token/ack`).set('Authorization', auth);
const ackRelease = (auth: string, deviceId: string) => app.http.post(`/api/agent/dongles/${deviceId}/release/ack`).set('Authorization', auth);

describe('claim', () => {
  it('claims a dongle my agent reported: 202 CLAIM_PENDING, audited', async () => {
    const me = await createOperator(app);
    const deviceId = randomDeviceId();
    await heartbeat(app, me.agentAuth, [deviceId]);
    const res = await claim(app, me, ` ${deviceId.toUpperCase()} `);
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ deviceId, state: 'CLAIM_PENDING', lastSeenAgentId: me.agentRow.id, groupId: null, canConfigVersion: 0 });
    expect(JSON.stringify(res.body)).not.toMatch(/owner/i);
    const row = await dongleRow(deviceId);
    expect(row.ownerUserId).toBe(me.user.id);
    expect(await app.db.prisma.auditLog.count({ where: { action: 'dongle.claim', targetId: row.id } })).toBe(1);
  });

  it('answers 404 for a dongle no agent of mine reported, and for one that does not exist', async () => {
    const me = await createOperator(app);
    const stranger = await createOperator(app);
    const deviceId = randomDeviceId();
    await heartbeat(app, stranger.agentAuth, [deviceId]);
    expect((await claim(app, me, deviceId)).status).toBe(404);
    expect((await claim(app, me, randomDeviceId())).status).toBe(404);
    expect((await dongleRow(deviceId)).ownershipState).toBe('UNCLAIMED');
  });

  it('answers 404 when my agent reported it more than 5 minutes ago', async () => {
    const me = await createOperator(app);
    const deviceId = randomDeviceId();
    await heartbeat(app, me.agentAuth, [deviceId]);
    await app.db.prisma.dongle.update({ where: { deviceId }, data: { lastSeenAt: new Date(Date.now() - 6 * 60_000) } });
    expect((await claim(app, me, deviceId)).status).toBe(404);
  });

  it('answers 404 when the reporting agent was deleted', async () => {
    const me = await createOperator(app);
    const deviceId = randomDeviceId();
    await heartbeat(app, me.agentAuth, [deviceId]);
    await app.db.prisma.agent.update({ where: { id: me.agentRow.id }, data: { revokedAt: new Date() } });
    expect((await claim(app, me, deviceId)).status).toBe(404);
  });

  it("answers 404 for a dongle someone else owns, even while my own agent reports it", async () => {
    const owner = await createOperator(app);
    const me = await createOperator(app);
    const { deviceId } = await activeDongle(app, owner);
    // Not reported by me: indistinguishable from a dongle that does not exist.
    const blind = await claim(app, me, deviceId);
    expect(blind.status).toBe(404);
    // My agent reporting someone else's dongle records nothing, so the claim is still a 404:
    // whether (and by whom) a dongle is owned is never revealed.
    await heartbeat(app, me.agentAuth, [deviceId]);
    const seen = await claim(app, me, deviceId);
    expect(seen.status).toBe(404);
    expect(seen.body.error.code).toBe('not_found');
    expect(JSON.stringify(seen.body)).not.toContain(owner.user.id);
    const row = await dongleRow(deviceId);
    expect(row.ownerUserId).toBe(owner.user.id);
    expect(row.lastSeenAgentId).toBe(owner.agentRow.id);
  });

  it('answers 409 when I claim my own dongle again', async () => {
    const me = await createOperator(app);
    const { deviceId } = await activeDongle(app, me);
    expect((await claim(app, me, deviceId)).status).toBe(409);
  });

  it('answers 422 for a malformed device id and unknown keys, and 403 for an unverified user', async () => {
    const me = await createOperator(app);
    const bad = await me.agent.post('/api/dongles/claim').set(csrf(me)).send({ deviceId: '12345', ownerUserId: me.user.id });
    expect(bad.status).toBe(422);
    const paths = (bad.body.error.details as Array<{ path: string }>).map((d) => d.path);
    expect(paths).toEqual(expect.arrayContaining(['body.deviceId', 'body']));
    const unverified = await createOperator(app, { verified: false });
    const refused = await unverified.agent.post('/api/dongles/claim').set(csrf(unverified)).send({ deviceId: randomDeviceId() });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('email_unverified');
  });

  it('lets exactly one of twenty concurrent claims by two users succeed', async () => {
    const alice = await createOperator(app);
    const bob = await createOperator(app);
    const deviceId = randomDeviceId();
    await heartbeat(app, alice.agentAuth, [deviceId]);
    // Both users' agents keep reporting it while twenty claims race.
    const results = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        const who = i % 2 === 0 ? alice : bob;
        if (i % 4 === 1) await heartbeat(app, who.agentAuth, [deviceId]);
        const res = await claim(app, who, deviceId);
        return { who, status: res.status };
      }),
    );
    const winners = results.filter((r) => r.status === 202);
    expect(winners).toHaveLength(1);
    expect(results.every((r) => [202, 404, 409].includes(r.status))).toBe(true);
    const row = await dongleRow(deviceId);
    expect(row.ownershipState).toBe('CLAIM_PENDING');
    expect(row.ownerUserId).toBe(winners[0]!.who.user.id);
    expect(await app.db.prisma.auditLog.count({ where: { action: 'dongle.claim', targetId: row.id } })).toBe(1);
  });
});

describe('token exchange', () => {
  it('gives the reporting agent of the owner a 32-byte token, created once, stored encrypted, audited without it', async () => {
    const me = await createOperator(app);
    const deviceId = randomDeviceId();
    await heartbeat(app, me.agentAuth, [deviceId]);
    expect((await claim(app, me, deviceId)).status).toBe(202);
    const first = await exchange(me.agentAuth, deviceId);
    expect(first.status).toBe(200);
    expect(first.body.token).toMatch(/^[0-9a-f]{64}$/);
    const second = await exchange(me.agentAuth, deviceId);
    expect(second.body.token).toBe(first.body.token);
    const row = await dongleRow(deviceId);
    expect(row.token).not.toBeNull();
    expect(row.token!.authTag).toHaveLength(16);
    expect(row.token!.nonce).toHaveLength(12);
    expect(Buffer.from(row.token!.ciphertext).toString('hex')).not.toBe(first.body.token);
    const audits = await app.db.prisma.auditLog.findMany({ where: { action: 'dongle.token.exchange', targetId: row.id } });
    expect(audits).toHaveLength(2);
    expect(JSON.stringify(audits)).not.toContain(first.body.token);
  });

  it("refuses another user's agent with 404, even one that reports the dongle", async () => {
    const me = await createOperator(app);
    const stranger = await createOperator(app);
    const deviceId = randomDeviceId();
    await heartbeat(app, me.agentAuth, [deviceId]);
    expect((await claim(app, me, deviceId)).status).toBe(202);
    await heartbeat(app, stranger.agentAuth, [deviceId]);
    const res = await exchange(stranger.agentAuth, deviceId);
    expect(res.status).toBe(404);
    expect((await dongleRow(deviceId)).token).toBeNull();
  });

  it('refuses an agent of the owner that has not reported the dongle recently', async () => {
    const me = await createOperator(app);
    const second = await createAgent(app.db, me.user.id, 'other-pc');
    const deviceId = randomDeviceId();
    await heartbeat(app, me.agentAuth, [deviceId]);
    await claim(app, me, deviceId);
    const other = await exchange(second.authorization, deviceId);
    expect(other.status).toBe(409);
    expect(other.body.error.code).toBe('dongle_not_reported');
    await app.db.prisma.dongle.update({ where: { deviceId }, data: { lastSeenAt: new Date(Date.now() - 6 * 60_000) } });
    const stale = await exchange(me.agentAuth, deviceId);
    expect(stale.status).toBe(409);
    expect((await dongleRow(deviceId)).token).toBeNull();
  });

  it('refuses after release: 409 while RELEASE_PENDING, 404 once UNCLAIMED', async () => {
    const me = await createOperator(app);
    const dongle = await activeDongle(app, me);
    expect((await me.agent.post(`/api/dongles/${dongle.id}/release`).set(csrf(me))).status).toBe(202);
    const pending = await exchange(me.agentAuth, dongle.deviceId);
    expect(pending.status).toBe(409);
    expect((await ackRelease(me.agentAuth, dongle.deviceId)).status).toBe(200);
    await heartbeat(app, me.agentAuth, [dongle.deviceId]);
    expect((await exchange(me.agentAuth, dongle.deviceId)).status).toBe(404);
    expect((await dongleRow(dongle.deviceId)).token).toBeNull();
  });

  it('answers 404 for an unclaimed dongle and 422 for a malformed device id', async () => {
    const me = await createOperator(app);
    const deviceId = randomDeviceId();
    await heartbeat(app, me.agentAuth, [deviceId]);
    expect((await exchange(me.agentAuth, deviceId)).status).toBe(404);
    expect((await exchange(me.agentAuth, 'nothex!!')).status).toBe(422);
  });
});

describe('acks and release', () => {
  it('token ack: CLAIM_PENDING → CLAIMED_ACTIVE only after the exchange; repeats are harmless', async () => {
    const me = await createOperator(app);
    const deviceId = randomDeviceId();
    await heartbeat(app, me.agentAuth, [deviceId]);
    await claim(app, me, deviceId);
    const early = await ackToken(me.agentAuth, deviceId);
    expect(early.status).toBe(409);
    expect(early.body.error.code).toBe('token_not_exchanged');
    await exchange(me.agentAuth, deviceId);
    const acked = await ackToken(me.agentAuth, deviceId);
    expect(acked.status).toBe(200);
    expect(acked.body).toEqual({ deviceId, state: 'CLAIMED_ACTIVE' });
    expect((await ackToken(me.agentAuth, deviceId)).status).toBe(200);
    const row = await dongleRow(deviceId);
    expect(await app.db.prisma.auditLog.count({ where: { action: 'dongle.token.ack', targetId: row.id } })).toBe(1);
  });

  it('release: RELEASE_PENDING, then the ack makes it UNCLAIMED with owner, token, config and name gone', async () => {
    const me = await createOperator(app);
    const dongle = await activeDongle(app, me);
    await me.agent.patch(`/api/dongles/${dongle.id}`).set(csrf(me)).send({ name: 'left bus' });
    const released = await me.agent.post(`/api/dongles/${dongle.id}/release`).set(csrf(me));
    expect(released.status).toBe(202);
    expect(released.body.state).toBe('RELEASE_PENDING');
    expect((await me.agent.post(`/api/dongles/${dongle.id}/release`).set(csrf(me))).status).toBe(409);
    expect((await ackToken(me.agentAuth, dongle.deviceId)).status).toBe(409);
    const acked = await ackRelease(me.agentAuth, dongle.deviceId);
    expect(acked.status).toBe(200);
    expect(acked.body.state).toBe('UNCLAIMED');
    const row = await dongleRow(dongle.deviceId);
    expect(row).toMatchObject({ ownershipState: 'UNCLAIMED', ownerUserId: null, name: null, token: null });
    expect((await me.agent.get(`/api/dongles/${dongle.id}`)).status).toBe(404);
    expect((await ackRelease(me.agentAuth, dongle.deviceId)).status).toBe(404);
  });

  it('refuses a release ack for a dongle that is not RELEASE_PENDING with 409', async () => {
    const me = await createOperator(app);
    const dongle = await activeDongle(app, me);
    const res = await ackRelease(me.agentAuth, dongle.deviceId);
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('invalid_state');
    expect((await dongleRow(dongle.deviceId)).ownershipState).toBe('CLAIMED_ACTIVE');
  });

  it('lets a released dongle be claimed by someone else afterwards', async () => {
    const first = await createOperator(app);
    const next = await createOperator(app);
    const dongle = await activeDongle(app, first);
    await first.agent.post(`/api/dongles/${dongle.id}/release`).set(csrf(first));
    await ackRelease(first.agentAuth, dongle.deviceId);
    const again = await activeDongle(app, next, dongle.deviceId);
    expect(again.token).not.toBe(dongle.token);
  });
});

describe('operator reads and rename', () => {
  it('lists only my dongles with state, last seen, group and CAN config version', async () => {
    const me = await createOperator(app);
    const a = await activeDongle(app, me);
    const b = randomDeviceId();
    await heartbeat(app, me.agentAuth, [b]);
    await claim(app, me, b);
    await activeDongle(app, await createOperator(app));
    const res = await me.agent.get('/api/dongles');
    expect(res.status).toBe(200);
    expect(res.body.nextCursor).toBeNull();
    expect(res.body.items.map((d: { deviceId: string }) => d.deviceId)).toEqual([b, a.deviceId]);
    expect(res.body.items[1]).toMatchObject({ state: 'CLAIMED_ACTIVE', groupId: null, canConfigVersion: 0, canConfigAppliedVersion: 0, lastSeenAt: expect.any(String) });
  });

  it('renames and clears the name; refuses unknown keys', async () => {
    const me = await createOperator(app);
    const dongle = await activeDongle(app, me);
    const named = await me.agent.patch(`/api/dongles/${dongle.id}`).set(csrf(me)).send({ name: ' front bus ' });
    expect(named.body.name).toBe('front bus');
    const cleared = await me.agent.patch(`/api/dongles/${dongle.id}`).set(csrf(me)).send({ name: null });
    expect(cleared.body.name).toBeNull();
    const bad = await me.agent.patch(`/api/dongles/${dongle.id}`).set(csrf(me)).send({ name: 'x', ownershipState: 'UNCLAIMED' });
    expect(bad.status).toBe(422);
    expect(await app.db.prisma.auditLog.count({ where: { action: 'dongle.update', targetId: dongle.id } })).toBe(2);
  });

  it('answers 422 for an id that is not a uuid', async () => {
    const me = await createOperator(app);
    const res = await me.agent.get('/api/dongles/not-a-uuid');
    expect(res.status).toBe(422);
    expect(res.body.error.details[0].path).toBe('params.id');
  });
});

describe('admin force-release', () => {
  it('makes any dongle UNCLAIMED at once and destroys its token and group', async () => {
    const owner = await createOperator(app);
    const admin = await createLoggedInUser(app.db, app.url, { role: 'admin' });
    const a = await activeDongle(app, owner);
    const b = await activeDongle(app, owner);
    const group = await owner.agent.post('/api/groups').set(csrf(owner)).send({ dongleAId: a.id, dongleBId: b.id });
    expect(group.status).toBe(201);
    const res = await admin.agent.post(`/api/admin/dongles/${a.id}/force-release`).set(csrf(admin));
    expect(res.status).toBe(200);
    expect(res.body.state).toBe('UNCLAIMED');
    const row = await dongleRow(a.deviceId);
    expect(row).toMatchObject({ ownershipState: 'UNCLAIMED', ownerUserId: null, token: null });
    expect(await app.db.prisma.dongleGroup.findUnique({ where: { id: group.body.id } })).toBeNull();
    const audit = await app.db.prisma.auditLog.findFirstOrThrow({ where: { action: 'dongle.force_release', targetId: a.id } });
    expect(audit.actorId).toBe(admin.user.id);
    expect((await admin.agent.post(`/api/admin/dongles/${a.id}/force-release`).set(csrf(admin))).status).toBe(409);
  });

  it('refuses a non-admin with 403 and changes nothing', async () => {
    const owner = await createOperator(app);
    const dongle = await activeDongle(app, owner);
    const res = await owner.agent.post(`/api/admin/dongles/${dongle.id}/force-release`).set(csrf(owner));
    expect(res.status).toBe(403);
    expect((await dongleRow(dongle.deviceId)).ownershipState).toBe('CLAIMED_ACTIVE');
  });
});
