// The whole system end to end, driven by apps/agent-sim as a real HTTP client: an operator
// creates an enrollment code, the simulator enrolls and reports dongles, the operator claims
// one, the simulator performs the token exchange, the operator sends commands and a CAN
// configuration, and the simulator answers them through the long-poll.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentSimulator } from '../../../agent-sim/src/index.ts';
import { createLoggedInUser } from '../support/factories.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.stop());

describe('agent-sim end to end', () => {
  it('enrolls, claims, exchanges the token, and answers commands through the long-poll', async () => {
    const operator = await createLoggedInUser(app.db, app.url);
    const csrf = { 'X-CSRF-Token': operator.csrfToken };
    const code = await operator.agent.post('/api/agents/enrollment-codes').set(csrf).expect(201);

    const sim = new AgentSimulator({ baseUrl: app.url, dongles: 2, name: 'e2e-pc', pollWaitSeconds: 30 });
    await sim.enroll(code.body.code);
    await sim.heartbeat();

    const [first] = sim.dongles;
    const claim = await operator.agent.post('/api/dongles/claim').set(csrf).send({ deviceId: first!.deviceId });
    expect(claim.status).toBe(202);
    expect(claim.body.state).toBe('CLAIM_PENDING');
    const dongleId = claim.body.id as string;

    await sim.heartbeat(); // token exchange + ack
    expect(first!.token).toMatch(/^[0-9a-f]{64}$/);
    const dongle = await app.db.prisma.dongle.findUnique({ where: { id: dongleId } });
    expect(dongle?.ownershipState).toBe('CLAIMED_ACTIVE');

    sim.start();
    try {
      const send = (body: object) => operator.agent.post(`/api/dongles/${dongleId}/commands`).set(csrf).send(body).expect(201);
      const ping = (await send({ type: 'PING', payload: { echo: 'hello' } })).body;
      const frame = (await send({ type: 'SEND_FRAME', payload: { canId: 0x18daf110, extended: true, data: '0210030000000000' } })).body;
      const status = (await send({ type: 'GET_STATUS' })).body;

      const config = await operator.agent
        .put(`/api/dongles/${dongleId}/can-config`)
        .set(csrf)
        .set('If-Match', '0')
        .send({ mode: 'NORMAL', nominalBitrate: 500_000, nominalSamplePoint: 87.5 });
      expect(config.status).toBe(200);

      const finished = async (id: string) => {
        let body: { status: string } = { status: 'QUEUED' };
        await expect
          .poll(async () => (body = (await operator.agent.get(`/api/commands/${id}`)).body).status, { timeout: 20_000, interval: 100 })
          .toBe('SUCCEEDED');
        return body as { status: string; result: Record<string, unknown>; agentId: string };
      };
      expect((await finished(ping.id)).result).toEqual({ pong: true, echo: 'hello' });
      expect((await finished(frame.id)).result).toEqual({ echo: { canId: 0x18daf110, extended: true, fd: false, brs: false, data: '0210030000000000' } });
      expect((await finished(status.id)).result).toMatchObject({ firmwareVersion: '1.4.2', framesSent: 1 });

      await expect
        .poll(async () => (await operator.agent.get(`/api/dongles/${dongleId}/can-config`)).body.appliedVersion, { timeout: 20_000, interval: 100 })
        .toBe(1);
      const history = await operator.agent.get(`/api/dongles/${dongleId}/commands`);
      expect(history.body.items.map((c: { type: string }) => c.type)).toEqual(['APPLY_CAN_CONFIG', 'GET_STATUS', 'SEND_FRAME', 'PING']);
      expect(history.body.items.every((c: { status: string }) => c.status === 'SUCCEEDED')).toBe(true);
    } finally {
      await sim.stop();
    }
  });
});
