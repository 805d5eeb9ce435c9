// The BOLA matrix: for every operator route that takes an id, and every agent route that names
// a dongle, another user's agent, dongle, group or configuration answers 404 — the same as an id
// that does not exist — and changes nothing (the rows are compared before and after).
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDongle } from '../support/factories.ts';
import { activeDongle, createOperator, csrf, heartbeat, startFleetApp, type Operator } from '../support/fleet.ts';
import type { TestApp } from '../support/test-app.ts';

let app: TestApp;
let owner: Operator;
let attacker: Operator;
let victim: { agentId: string; dongleA: { id: string; deviceId: string }; dongleB: { id: string; deviceId: string }; groupId: string; unclaimedId: string };

beforeAll(async () => {
  app = await startFleetApp();
  owner = await createOperator(app);
  attacker = await createOperator(app);
  const dongleA = await activeDongle(app, owner);
  const dongleB = await activeDongle(app, owner);
  const group = await owner.agent.post('/api/groups').set(csrf(owner)).send({ dongleAId: dongleA.id, dongleBId: dongleB.id });
  const config = await owner.agent.put(`/api/dongles/${dongleA.id}/can-config`).set(csrf(owner)).set('If-Match', '0').send({ mode: 'NORMAL', nominalBitrate: 500_000, nominalSamplePoint: 87.5 });
  expect(config.status).toBe(200);
  const unclaimed = await createDongle(app.db);
  victim = { agentId: owner.agentRow.id, dongleA, dongleB, groupId: group.body.id, unclaimedId: unclaimed.id };
  // The attacker's agent reports the victim's dongles too: possession alone must not open them.
  await heartbeat(app, attacker.agentAuth, [dongleA.deviceId, dongleB.deviceId]);
});
afterAll(() => app.stop());

/** Everything the matrix could change, as plain data. */
async function snapshot() {
  const p = app.db.prisma;
  const dongleIds = [victim.dongleA.id, victim.dongleB.id, victim.unclaimedId];
  return JSON.stringify({
    agents: await p.agent.findMany({ where: { userId: owner.user.id }, include: { tokens: true }, orderBy: { id: 'asc' } }),
    dongles: await p.dongle.findMany({ where: { id: { in: dongleIds } }, select: { id: true, name: true, ownerUserId: true, ownershipState: true, updatedAt: true, lastSeenAt: true, lastSeenAgentId: true, firmwareVersion: true }, orderBy: { id: 'asc' } }),
    tokens: await p.dongleToken.findMany({ where: { dongleId: { in: dongleIds } }, orderBy: { id: 'asc' } }),
    groups: await p.dongleGroup.findMany({ where: { userId: owner.user.id }, orderBy: { id: 'asc' } }),
    attackerGroups: await p.dongleGroup.count({ where: { userId: attacker.user.id } }),
    configs: await p.canConfig.findMany({ where: { dongleId: { in: dongleIds } }, orderBy: { id: 'asc' } }),
    commands: await p.command.count({ where: { dongleId: { in: dongleIds } } }),
  });
}

type Call = [name: string, run: (id: { agent: string; dongle: string; group: string; deviceId: string }) => Promise<{ status: number; body: { error?: { code: string } } }>];

const operatorCalls: Call[] = [
  ['GET /api/agents/:id', (id) => attacker.agent.get(`/api/agents/${id.agent}`)],
  ['PATCH /api/agents/:id', (id) => attacker.agent.patch(`/api/agents/${id.agent}`).set(csrf(attacker)).send({ name: 'pwned' })],
  ['DELETE /api/agents/:id', (id) => attacker.agent.delete(`/api/agents/${id.agent}`).set(csrf(attacker))],
  ['GET /api/dongles/:id', (id) => attacker.agent.get(`/api/dongles/${id.dongle}`)],
  ['PATCH /api/dongles/:id', (id) => attacker.agent.patch(`/api/dongles/${id.dongle}`).set(csrf(attacker)).send({ name: 'pwned' })],
  ['POST /api/dongles/:id/release', (id) => attacker.agent.post(`/api/dongles/${id.dongle}/release`).set(csrf(attacker))],
  ['GET /api/dongles/:id/can-config', (id) => attacker.agent.get(`/api/dongles/${id.dongle}/can-config`)],
  ['PUT /api/dongles/:id/can-config', (id) => attacker.agent.put(`/api/dongles/${id.dongle}/can-config`).set(csrf(attacker)).set('If-Match', '1').send({ mode: 'LOOPBACK', nominalBitrate: 500_000, nominalSamplePoint: 87.5 })],
  ['GET /api/groups/:id', (id) => attacker.agent.get(`/api/groups/${id.group}`)],
  ['PATCH /api/groups/:id', (id) => attacker.agent.patch(`/api/groups/${id.group}`).set(csrf(attacker)).send({ mode: 'PAUSED' })],
  ['DELETE /api/groups/:id', (id) => attacker.agent.delete(`/api/groups/${id.group}`).set(csrf(attacker))],
  ['POST /api/groups (their dongles)', (id) => attacker.agent.post('/api/groups').set(csrf(attacker)).send({ dongleAId: id.dongle, dongleBId: victim.dongleB.id })],
];

const agentCalls: Call[] = [
  ['POST /api/agent/dongles/:deviceId/token', (id) => app.http.post(`/api/agent/dongles/${id.deviceId}/token`).set('Authorization', attacker.agentAuth)],
  ['POST /api/agent/dongles/:deviceId/token/ack', (id) => app.http.post(`/api/agent/dongles/${id.deviceId}/token/ack`).set('Authorization', attacker.agentAuth)],
  ['POST /api/agent/dongles/:deviceId/release/ack', (id) => app.http.post(`/api/agent/dongles/${id.deviceId}/release/ack`).set('Authorization', attacker.agentAuth)],
];

describe("another user's fleet", () => {
  it.each([...operatorCalls, ...agentCalls])('%s answers 404 and changes nothing', async (_name, run) => {
    const before = await snapshot();
    const theirs = await run({ agent: victim.agentId, dongle: victim.dongleA.id, group: victim.groupId, deviceId: victim.dongleA.deviceId });
    expect(theirs.status).toBe(404);
    expect(theirs.body.error?.code).toBe('not_found');
    // Indistinguishable from an id that does not exist.
    const missing = await run({ agent: randomUUID(), dongle: randomUUID(), group: randomUUID(), deviceId: '0123456789abcdef' });
    expect(missing.status).toBe(404);
    expect(await snapshot()).toBe(before);
  });

  it("another user's agent reporting my dongles (with other firmware) changes nothing on them", async () => {
    const before = await snapshot();
    const res = await app.http
      .post('/api/agent/heartbeat')
      .set('Authorization', attacker.agentAuth)
      .send({ version: '6.6.6', dongles: [victim.dongleA, victim.dongleB].map((d) => ({ deviceId: d.deviceId, firmwareVersion: 'evil-9.9' })) });
    expect(res.status).toBe(200);
    expect(JSON.stringify(res.body)).not.toContain(victim.dongleA.deviceId);
    expect(await snapshot()).toBe(before);
  });

  it("does not cut my agent off my dongle: after another user's agent reports it, my token exchange still works", async () => {
    await heartbeat(app, owner.agentAuth, [victim.dongleA.deviceId]);
    await heartbeat(app, attacker.agentAuth, [victim.dongleA.deviceId]);
    const row = await app.db.prisma.dongle.findUniqueOrThrow({ where: { id: victim.dongleA.id } });
    expect(row.ownershipState).toBe('CLAIMED_ACTIVE');
    expect(row.lastSeenAgentId).toBe(owner.agentRow.id);
    const exchanged = await app.http.post(`/api/agent/dongles/${victim.dongleA.deviceId}/token`).set('Authorization', owner.agentAuth);
    expect(exchanged.status, JSON.stringify(exchanged.body)).toBe(200);
  });

  it('hides an unclaimed dongle from every operator route: it is nobody’s', async () => {
    const before = await snapshot();
    for (const [name, run] of operatorCalls.filter(([n]) => n.includes('/api/dongles/'))) {
      const res = await run({ agent: randomUUID(), dongle: victim.unclaimedId, group: randomUUID(), deviceId: '0123456789abcdef' });
      expect(res.status, name).toBe(404);
    }
    expect(await snapshot()).toBe(before);
  });

  it('never lists another user’s agents, dongles or groups', async () => {
    const lists = await Promise.all(['/api/agents', '/api/dongles', '/api/groups'].map((path) => attacker.agent.get(path)));
    const text = JSON.stringify(lists.map((r) => r.body));
    for (const id of [victim.agentId, victim.dongleA.id, victim.dongleB.id, victim.groupId]) expect(text).not.toContain(id);
  });
});
