// Issue 9, item 5: per-account quotas (config `quotas`, 429 quota_exceeded with a clear message)
// and discovery audit rows bounded to one per heartbeat.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFleet } from '../support/command-fixtures.ts';
import { randomDeviceId } from '../support/factories.ts';
import { createOperator, csrf, heartbeat } from '../support/fleet.ts';
import { startTestApp, testConfig, type TestApp } from '../support/test-app.ts';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({
    config: { quotas: { ...testConfig().quotas, unclaimedDonglesPerAgent: 3, openEnrollmentCodesPerUser: 2, queuedCommandsPerDongle: 3, idempotencyKeysPerUser: 2 } },
  });
});
afterAll(() => app.stop());

function expectQuota(res: { status: number; body: { error: { code: string; message: string; details?: { code: string }[] } } }, quota: string) {
  expect(res.status, JSON.stringify(res.body)).toBe(429);
  expect(res.body.error.code).toBe('quota_exceeded');
  expect(res.body.error.details?.[0]?.code).toBe(quota);
  expect(res.body.error.message.length).toBeGreaterThan(20);
}

describe('quotas', () => {
  it('queued commands per dongle: the next send is a 429 until one leaves the queue', async () => {
    const fleet = await createFleet(app);
    const sent = [];
    for (let i = 0; i < 3; i++) sent.push(await fleet.send(fleet.dongle.id, { type: 'PING' }));
    expect(sent.map((r) => r.status)).toEqual([201, 201, 201]);
    expectQuota(await fleet.send(fleet.dongle.id, { type: 'PING' }), 'queued_commands_per_dongle');
    expect(await app.db.prisma.command.count({ where: { dongleId: fleet.dongle.id } })).toBe(3);

    const cancelled = await fleet.operator.agent.post(`/api/commands/${sent[0]!.body.id}/cancel`).set('X-CSRF-Token', fleet.operator.csrfToken);
    expect(cancelled.status).toBe(200);
    expect((await fleet.send(fleet.dongle.id, { type: 'PING' })).status).toBe(201);
  });

  it('open enrollment codes per user: a third unused code is a 429; another user is unaffected', async () => {
    const me = await createOperator(app);
    const create = (who: typeof me) => who.agent.post('/api/agents/enrollment-codes').set(csrf(who)).send();
    expect((await create(me)).status).toBe(201);
    expect((await create(me)).status).toBe(201);
    expectQuota(await create(me), 'open_enrollment_codes_per_user');
    expect((await create(await createOperator(app))).status).toBe(201);
    // An expired code no longer counts.
    await app.db.pool.query(`UPDATE agent_enrollment_codes SET expires_at = now() - interval '1 second' WHERE user_id = $1`, [me.user.id]);
    expect((await create(me)).status).toBe(201);
  });

  it('idempotency keys per user: a new key beyond the quota is a 429; replays and unkeyed sends still work', async () => {
    const fleet = await createFleet(app, { dongles: 2 });
    const ping = { type: 'PING' };
    expect((await fleet.send(fleet.dongles[0]!.id, ping, 'key-1')).status).toBe(201);
    expect((await fleet.send(fleet.dongles[0]!.id, ping, 'key-2')).status).toBe(201);
    expectQuota(await fleet.send(fleet.dongles[1]!.id, ping, 'key-3'), 'idempotency_keys_per_user');
    const replay = await fleet.send(fleet.dongles[0]!.id, ping, 'key-1');
    expect(replay.status).toBe(201);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect((await fleet.send(fleet.dongles[1]!.id, ping)).status).toBe(201);
  });

  it('dongles one agent may put on record: unknown ids beyond the quota are ignored (and said so), with one audit row per heartbeat', async () => {
    const operator = await createOperator(app);
    const first = Array.from({ length: 5 }, randomDeviceId);
    const res = await heartbeat(app, operator.agentAuth, first);
    expect(res.body.ignored).toMatchObject({ code: 'quota_exceeded', count: 2 });
    expect(res.body.ignored.message).toContain('QUOTA_UNCLAIMED_DONGLES_PER_AGENT');
    expect(await app.db.prisma.dongle.count({ where: { deviceId: { in: first } } })).toBe(3);

    const second = Array.from({ length: 5 }, randomDeviceId);
    expect((await heartbeat(app, operator.agentAuth, second)).body.ignored).toMatchObject({ count: 5 });
    expect(await app.db.prisma.dongle.count({ where: { deviceId: { in: second } } })).toBe(0);

    const audits = await app.db.prisma.auditLog.findMany({ where: { action: 'dongle.discover', actorId: operator.agentRow.id }, orderBy: { createdAt: 'asc' } });
    expect(audits).toHaveLength(2);
    expect(audits[0]).toMatchObject({ targetType: 'agent', targetId: operator.agentRow.id, result: 'denied' });
    expect(audits[0]!.details).toMatchObject({ count: 3, ignored: 2 });
    expect((audits[0]!.details as { deviceIds: string[] }).deviceIds).toEqual([...first].sort().slice(0, 3));
    expect(audits[1]!.details).toMatchObject({ count: 0, ignored: 5 });

    // Known dongles still get their sightings, and a steady heartbeat writes no audit row.
    const again = await heartbeat(app, operator.agentAuth, [...first].sort().slice(0, 3));
    expect(again.body.ignored).toBeUndefined();
    expect(await app.db.prisma.auditLog.count({ where: { action: 'dongle.discover', actorId: operator.agentRow.id } })).toBe(2);
  });
});
