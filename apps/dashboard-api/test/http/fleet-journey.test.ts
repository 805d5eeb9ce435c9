// The whole fleet journey over HTTP, as an operator and their desktop agent live it:
// enrollment code → enroll → heartbeat with two dongles → claim → token exchange → ack →
// group → CAN configuration → release → release ack.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLoggedInUser, randomDeviceId } from '../support/factories.ts';
import { csrf, startFleetApp } from '../support/fleet.ts';
import type { TestApp } from '../support/test-app.ts';

let app: TestApp;
beforeAll(async () => {
  app = await startFleetApp();
});
afterAll(() => app.stop());

describe('the fleet journey', () => {
  it('takes two dongles from first sight to a configured group and back to UNCLAIMED', async () => {
    const operator = await createLoggedInUser(app.db, app.url);
    const headers = csrf(operator);

    // 1. The operator creates a one-time code; the agent enrolls with it.
    const code = await operator.agent.post('/api/agents/enrollment-codes').set(headers).send({});
    expect(code.status).toBe(201);
    const enrolled = await app.http.post('/api/agent/enroll').send({ code: code.body.code, name: 'workbench', hostname: 'wb.local', os: 'windows', version: '2.0.0' });
    expect(enrolled.status).toBe(201);
    const bearer = `Bearer ${enrolled.body.token}`;
    const agentCall = (path: string) => app.http.post(`/api/agent${path}`).set('Authorization', bearer);

    // 2. The agent reports two dongles; they exist UNCLAIMED and the agent is online.
    const [left, right] = [randomDeviceId(), randomDeviceId()];
    const beat = await agentCall('/heartbeat').send({ version: '2.0.0', dongles: [{ deviceId: left, firmwareVersion: '1.4.2' }, { deviceId: right.toUpperCase() }] });
    expect(beat.status).toBe(200);
    const agents = await operator.agent.get('/api/agents');
    expect(agents.body.items).toEqual([expect.objectContaining({ id: enrolled.body.agentId, name: 'workbench', online: true })]);

    // 3. The operator claims both (proof of possession: their agent reported them).
    const ids: Record<string, string> = {};
    for (const deviceId of [left, right]) {
      const claimed = await operator.agent.post('/api/dongles/claim').set(headers).send({ deviceId });
      expect(claimed.status).toBe(202);
      expect(claimed.body.state).toBe('CLAIM_PENDING');
      ids[deviceId] = claimed.body.id;
    }

    // 4. The next heartbeat tells the agent what to do; it exchanges and acknowledges the tokens.
    const todo = await agentCall('/heartbeat').send({ version: '2.0.0', dongles: [{ deviceId: left }, { deviceId: right }] });
    expect(todo.body.dongles).toEqual(expect.arrayContaining([{ deviceId: left, state: 'CLAIM_PENDING' }, { deviceId: right, state: 'CLAIM_PENDING' }]));
    for (const deviceId of [left, right]) {
      const token = await agentCall(`/dongles/${deviceId}/token`);
      expect(token.status).toBe(200);
      expect(token.body.token).toMatch(/^[0-9a-f]{64}$/);
      const ack = await agentCall(`/dongles/${deviceId}/token/ack`);
      expect(ack.body).toEqual({ deviceId, state: 'CLAIMED_ACTIVE' });
    }

    // 5. Pair them.
    const group = await operator.agent.post('/api/groups').set(headers).send({ dongleAId: ids[left], dongleBId: ids[right] });
    expect(group.status).toBe(201);

    // 6. Configure the left one: If-Match 0 (the defaults), version 1, APPLY_CAN_CONFIG queued.
    const config = await operator.agent.get(`/api/dongles/${ids[left]}/can-config`);
    expect(config.body.version).toBe(0);
    const put = await operator.agent
      .put(`/api/dongles/${ids[left]}/can-config`)
      .set(headers)
      .set('If-Match', config.headers.etag!)
      .send({ mode: 'NORMAL', nominalBitrate: 250_000, nominalSamplePoint: 87.5, termination: true });
    expect(put.status).toBe(200);
    expect(put.body.version).toBe(1);
    const command = await app.db.prisma.command.findUniqueOrThrow({ where: { id: put.body.applyCommandId } });
    expect(command).toMatchObject({ type: 'APPLY_CAN_CONFIG', status: 'QUEUED' });

    const dongles = await operator.agent.get('/api/dongles');
    const leftView = dongles.body.items.find((d: { id: string }) => d.id === ids[left]);
    expect(leftView).toMatchObject({ state: 'CLAIMED_ACTIVE', groupId: group.body.id, canConfigVersion: 1, firmwareVersion: '1.4.2', lastSeenAgentId: enrolled.body.agentId });

    // 7. Release the left one: RELEASE_PENDING, the group is gone; the agent wipes it and acks.
    const released = await operator.agent.post(`/api/dongles/${ids[left]}/release`).set(headers);
    expect(released.status).toBe(202);
    expect(released.body).toMatchObject({ state: 'RELEASE_PENDING', groupId: null });
    expect((await operator.agent.get(`/api/groups/${group.body.id}`)).status).toBe(404);
    const wipe = await agentCall('/heartbeat').send({ version: '2.0.0', dongles: [{ deviceId: left }] });
    expect(wipe.body.dongles).toEqual([{ deviceId: left, state: 'RELEASE_PENDING' }]);
    const releaseAck = await agentCall(`/dongles/${left}/release/ack`);
    expect(releaseAck.body).toEqual({ deviceId: left, state: 'UNCLAIMED' });

    // The left dongle is free again, with no token, owner or configuration; the right one stays.
    const leftRow = await app.db.prisma.dongle.findUniqueOrThrow({ where: { deviceId: left }, include: { token: true, canConfig: true } });
    expect(leftRow).toMatchObject({ ownershipState: 'UNCLAIMED', ownerUserId: null, token: null, canConfig: null });
    const remaining = await operator.agent.get('/api/dongles');
    expect(remaining.body.items.map((d: { deviceId: string }) => d.deviceId)).toEqual([right]);

    // Every step left its audit row.
    const actions = new Set((await app.db.prisma.auditLog.findMany({ where: { OR: [{ actorId: operator.user.id }, { actorId: enrolled.body.agentId }] } })).map((r) => r.action));
    for (const action of ['agent.enrollment_code.create', 'agent.enroll', 'dongle.discover', 'dongle.claim', 'dongle.token.exchange', 'dongle.token.ack', 'group.create', 'can_config.update', 'command.create', 'dongle.release', 'group.delete', 'dongle.release.ack']) {
      expect(actions, action).toContain(action);
    }
  });
});
