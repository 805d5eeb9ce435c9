// GET /api/dongles/discovered: the dashboard's claim list is exactly what a claim would accept.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomDeviceId } from '../../../test/support/factories.ts';
import { activeDongle, claim, createOperator, heartbeat, startFleetApp } from '../../../test/support/fleet.ts';
import type { TestApp } from '../../../test/support/test-app.ts';

let app: TestApp;
beforeAll(async () => {
  app = await startFleetApp();
});
afterAll(() => app.stop());

const discovered = async (operator: Awaited<ReturnType<typeof createOperator>>) => {
  const res = await operator.agent.get('/api/dongles/discovered');
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.items as Array<{ deviceId: string; agentId: string; agentName: string; firmwareVersion: string | null }>;
};

describe('GET /api/dongles/discovered', () => {
  it('lists the unclaimed dongles my agent reported, with the agent that saw them, and a listed one can be claimed', async () => {
    const me = await createOperator(app);
    const deviceId = randomDeviceId();
    await app.http.post('/api/agent/heartbeat').set('Authorization', me.agentAuth).send({ version: '1.0.0', dongles: [{ deviceId, firmwareVersion: '2.1.0' }] }).expect(200);
    const items = await discovered(me);
    expect(items).toEqual([expect.objectContaining({ deviceId, agentId: me.agentRow.id, agentName: me.agentRow.name, firmwareVersion: '2.1.0' })]);
    expect((await claim(app, me, deviceId)).status).toBe(202);
    expect(await discovered(me), 'a claimed dongle is no longer offered').toEqual([]);
  });

  it("never lists my own claimed dongles, another user's sightings, or sightings older than 5 minutes", async () => {
    const me = await createOperator(app);
    const stranger = await createOperator(app);
    await activeDongle(app, me);
    const theirs = randomDeviceId();
    await heartbeat(app, stranger.agentAuth, [theirs]);
    const old = randomDeviceId();
    await heartbeat(app, me.agentAuth, [old]);
    await app.db.prisma.dongle.update({ where: { deviceId: old }, data: { lastSeenAt: new Date(Date.now() - 6 * 60_000) } });
    expect(await discovered(me)).toEqual([]);
    expect((await discovered(stranger)).map((d) => d.deviceId)).toEqual([theirs]);
  });

  it('stops listing what a deleted agent saw', async () => {
    const me = await createOperator(app);
    await heartbeat(app, me.agentAuth, [randomDeviceId()]);
    expect(await discovered(me)).toHaveLength(1);
    await me.agent.delete(`/api/agents/${me.agentRow.id}`).set('X-CSRF-Token', me.csrfToken).expect(204);
    expect(await discovered(me)).toEqual([]);
  });

  it('answers 401 without a session', async () => {
    const res = await app.http.get('/api/dongles/discovered');
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBeTypeOf('string');
  });
});
