// The agent side over HTTP: hand-out rules, exactly-once delivery, results.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgent, createDongle } from '../../../test/support/factories.ts';
import { startTestApp, type TestApp } from '../../../test/support/test-app.ts';
import { CLAIM, claimParams } from './commands.sql.ts';
import { enqueueCommand } from './command-queue.ts';
import { createFleet, pollAs, postResult } from '../../../test/support/command-fixtures.ts';

let app: TestApp;
let second: TestApp;
beforeAll(async () => {
  app = await startTestApp();
  second = await startTestApp();
});
afterAll(async () => {
  await Promise.all([app.stop(), second.stop()]);
});

const ids = (res: { body: { commands: { id: string }[] } }) => res.body.commands.map((c) => c.id);

describe('GET /api/agent/commands', () => {
  it('hands out pending work at once and marks it DELIVERED to this agent', async () => {
    const fleet = await createFleet(app);
    const first = (await fleet.send(fleet.dongle.id, { type: 'PING' })).body;
    const secondCmd = (await fleet.send(fleet.dongle.id, { type: 'SEND_FRAME', payload: { canId: 0x10, data: 'ff' } })).body;
    const res = await pollAs(app, fleet.agent.authorization, 30);
    expect(res.status).toBe(200);
    expect(ids(res)).toEqual([first.id, secondCmd.id]);
    expect(res.body.commands[1]).toMatchObject({ dongleId: fleet.dongle.id, deviceId: fleet.dongle.deviceId, type: 'SEND_FRAME', payload: { canId: 0x10, data: 'ff' } });
    const stored = await app.db.prisma.command.findUnique({ where: { id: first.id } });
    expect(stored).toMatchObject({ status: 'DELIVERED', agentId: fleet.agent.agent.id });
    expect(stored?.deliveredAt).toBeInstanceOf(Date);
    expect(ids(await pollAs(app, fleet.agent.authorization))).toEqual([]);
  });

  it('answers wait=0 at once with an empty list, and a poll with nothing pending writes nothing', async () => {
    const fleet = await createFleet(app);
    const res = await pollAs(app, fleet.agent.authorization, 0);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ commands: [] });
    // The hand-out statement, run inside a transaction: with nothing to hand out it never gets
    // a transaction id, i.e. it locked and wrote nothing.
    const client = await app.db.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(CLAIM.text, claimParams({ id: fleet.agent.agent.id, organizationId: fleet.agent.agent.organizationId, tokenId: fleet.agent.tokenId }, 10));
      const { rows } = await client.query('SELECT pg_current_xact_id_if_assigned() AS xid');
      expect(rows[0].xid).toBeNull();
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  });

  it('records one command.delivered event per handed-out command, with its webhook delivery, in the hand-out statement', async () => {
    const fleet = await createFleet(app, { dongles: 2 });
    const orgId = fleet.agent.agent.organizationId;
    // A webhook for this type only: the statement writes its outbox row with the event.
    await app.db.pool.query(`INSERT INTO webhooks (organization_id, url, event_types, secret_sealed) VALUES ($1, 'https://hooks.example.test/x', '{command.delivered}', '\\x00')`, [orgId]);
    const a = (await fleet.send(fleet.dongles[0]!.id, { type: 'PING' })).body;
    const b = (await fleet.send(fleet.dongles[1]!.id, { type: 'PING' })).body;
    expect(ids(await pollAs(app, fleet.agent.authorization, 0))).toEqual([a.id, b.id]);
    const { rows } = await app.db.pool.query(
      `SELECT e.subject_type, e.subject_id, e.data, (SELECT count(*)::int FROM webhook_deliveries w WHERE w.event_id = e.id) AS deliveries
         FROM events e WHERE e.organization_id = $1 AND e.type = 'command.delivered' ORDER BY e.id`,
      [orgId],
    );
    expect(rows).toEqual([
      { subject_type: 'command', subject_id: a.id, data: { dongleId: fleet.dongles[0]!.id, type: 'PING', agentId: fleet.agent.agent.id }, deliveries: 1 },
      { subject_type: 'command', subject_id: b.id, data: { dongleId: fleet.dongles[1]!.id, type: 'PING', agentId: fleet.agent.agent.id }, deliveries: 1 },
    ]);
    // An idle poll adds none.
    expect(ids(await pollAs(app, fleet.agent.authorization, 0))).toEqual([]);
    const { rows: after } = await app.db.pool.query(`SELECT count(*)::int AS n FROM events WHERE organization_id = $1 AND type = 'command.delivered'`, [orgId]);
    expect(after[0].n).toBe(2);
  });

  it('respects limit', async () => {
    const fleet = await createFleet(app);
    for (let i = 0; i < 3; i++) await fleet.send(fleet.dongle.id, { type: 'PING' });
    expect(ids(await pollAs(app, fleet.agent.authorization, 0, 2))).toHaveLength(2);
    expect(ids(await pollAs(app, fleet.agent.authorization, 0, 2))).toHaveLength(1);
  });

  it('hands a command only to the owner agent that reported its dongle recently, while CLAIMED_ACTIVE', async () => {
    const fleet = await createFleet(app, { agents: 2, dongles: 2 });
    const [mine, sibling] = fleet.agents;
    // dongles[0] reported by agents[0], dongles[1] by agents[1]
    const forSibling = (await fleet.send(fleet.dongles[1]!.id, { type: 'PING' })).body;
    expect(ids(await pollAs(app, mine!.authorization))).toEqual([]);

    const stale = await createDongle(app.db, { ownerUserId: fleet.operator.user.id, lastSeenAgentId: mine!.agent.id });
    const staleCmd = (await fleet.send(stale.id, { type: 'PING' })).body;
    await app.db.prisma.dongle.update({ where: { id: stale.id }, data: { lastSeenAt: new Date(Date.now() - 6 * 60_000) } });
    const releasing = await createDongle(app.db, { ownerUserId: fleet.operator.user.id, lastSeenAgentId: mine!.agent.id });
    await fleet.send(releasing.id, { type: 'PING' });
    await app.db.prisma.dongle.update({ where: { id: releasing.id }, data: { ownershipState: 'RELEASE_PENDING' } });
    expect(ids(await pollAs(app, mine!.authorization))).toEqual([]);

    // Another user's agent that somehow reported the dongle gets nothing either.
    const strangerFleet = await createFleet(app);
    await app.db.prisma.dongle.update({ where: { id: fleet.dongles[1]!.id }, data: { lastSeenAgentId: strangerFleet.agent.agent.id } });
    expect(ids(await pollAs(app, strangerFleet.agent.authorization))).toEqual([]);
    await app.db.prisma.dongle.update({ where: { id: fleet.dongles[1]!.id }, data: { lastSeenAgentId: sibling!.agent.id } });
    expect(ids(await pollAs(app, sibling!.authorization))).toEqual([forSibling.id]);

    // When the stale dongle is reported again, its command is handed out.
    await app.db.prisma.dongle.update({ where: { id: stale.id }, data: { lastSeenAt: new Date() } });
    expect(ids(await pollAs(app, mine!.authorization))).toEqual([staleCmd.id]);
  });

  it('needs an agent bearer token', async () => {
    expect((await app.http.get('/api/agent/commands')).status).toBe(401);
    const fleet = await createFleet(app);
    expect((await pollAs(app, fleet.agent.authorization, 31)).status).toBe(422);
  });
});

describe('five agents polling one hundred commands concurrently', () => {
  it('delivers each command exactly once, to the agent that reports its dongle, across two instances', async () => {
    const fleet = await createFleet(app, { agents: 5, dongles: 10 });
    const reporter = new Map(fleet.dongles.map((d) => [d.id, d.lastSeenAgentId]));
    const delivered: { id: string; agentId: string; dongleId: string }[] = [];
    let created = 0;
    const done = () => delivered.length >= 100;
    const deadline = Date.now() + 45_000;

    // Two pollers per agent, one on each instance, so pollers really compete for the same rows.
    const pollers = fleet.agents.flatMap((agent) =>
      [app, second].map(async (instance) => {
        while (!done() && Date.now() < deadline) {
          const res = await pollAs(instance, agent.authorization, 2, 7);
          expect(res.status).toBe(200);
          for (const c of res.body.commands) delivered.push({ id: c.id, agentId: agent.agent.id, dongleId: c.dongleId });
        }
      }),
    );
    // Created while the polls run, in bursts across the ten dongles, half on each instance.
    const creators = [0, 1].map(async (half) => {
      for (let i = half; i < 100; i += 2) {
        await enqueueViaDb(i % 2 === 0 ? app : second, fleet.dongles[i % 10]!.id, fleet.operator.user.id);
        created++;
      }
    });
    await Promise.all([...creators, ...pollers]);

    expect(created).toBe(100);
    expect(delivered).toHaveLength(100);
    expect(new Set(delivered.map((d) => d.id)).size).toBe(100);
    for (const d of delivered) expect(d.agentId).toBe(reporter.get(d.dongleId));
    const rows = await app.db.prisma.command.groupBy({ by: ['status'], where: { dongleId: { in: fleet.dongles.map((d) => d.id) } }, _count: true });
    expect(rows).toEqual([{ status: 'DELIVERED', _count: 100 }]);
  });
});

async function enqueueViaDb(instance: TestApp, dongleId: string, userId: string) {
  await instance.db.prisma.$transaction((tx) => enqueueCommand(tx, { dongleId, type: 'PING', payload: {}, createdByUserId: userId }));
}

describe('POST /api/agent/commands/:id/result', () => {
  it('records a result once; the same again is 200, a different one 409', async () => {
    const fleet = await createFleet(app);
    const command = (await fleet.send(fleet.dongle.id, { type: 'PING', payload: { echo: 'x' } })).body;
    await pollAs(app, fleet.agent.authorization);
    const result = { status: 'SUCCEEDED', result: { pong: true, echo: 'x', rttMs: 3 } };
    const first = await postResult(app, fleet.agent.authorization, command.id, result);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ status: 'SUCCEEDED', result: result.result, agentId: fleet.agent.agent.id });
    expect(first.body.completedAt).not.toBeNull();
    const audit = await app.db.prisma.auditLog.findFirst({ where: { action: 'command.result', targetId: command.id } });
    expect(audit).toMatchObject({ actorType: 'agent', actorId: fleet.agent.agent.id });
    // Written on the raw pg transaction, still in the agent's organization (the org audit log).
    const { organizationId } = await app.db.prisma.command.findUniqueOrThrow({ where: { id: command.id } });
    expect(organizationId).not.toBeNull();
    expect(audit?.organizationId).toBe(organizationId);

    const again = await postResult(app, fleet.agent.authorization, command.id, { status: 'SUCCEEDED', result: { rttMs: 3, echo: 'x', pong: true } });
    expect(again.status).toBe(200);
    const other = await postResult(app, fleet.agent.authorization, command.id, { status: 'FAILED', error: 'nope' });
    expect(other.status).toBe(409);
    expect(other.body.error.code).toBe('command_finished');
    const otherResult = await postResult(app, fleet.agent.authorization, command.id, { status: 'SUCCEEDED', result: { pong: false } });
    expect(otherResult.status).toBe(409);
    expect(await app.db.prisma.auditLog.count({ where: { action: 'command.result', targetId: command.id } })).toBe(1);
  });

  it('returns 404 for a command not delivered to this agent', async () => {
    const fleet = await createFleet(app, { agents: 2, dongles: 1 });
    const queued = (await fleet.send(fleet.dongle.id, { type: 'PING' })).body;
    expect((await postResult(app, fleet.agent.authorization, queued.id, { status: 'SUCCEEDED' })).status).toBe(404);
    await pollAs(app, fleet.agent.authorization);
    expect((await postResult(app, fleet.agents[1]!.authorization, queued.id, { status: 'SUCCEEDED' })).status).toBe(404);
    const stranger = await createAgent(app.db, (await createFleet(app)).operator.user.id);
    expect((await postResult(app, stranger.authorization, queued.id, { status: 'SUCCEEDED' })).status).toBe(404);
    expect((await postResult(app, fleet.agent.authorization, '00000000-0000-4000-8000-000000000000', { status: 'SUCCEEDED' })).status).toBe(404);
  });

  it('validates the body', async () => {
    const fleet = await createFleet(app);
    const command = (await fleet.send(fleet.dongle.id, { type: 'PING' })).body;
    await pollAs(app, fleet.agent.authorization);
    for (const body of [{ status: 'DELIVERED' }, { status: 'SUCCEEDED', error: 'x' }, { status: 'FAILED', extra: 1 }]) {
      expect((await postResult(app, fleet.agent.authorization, command.id, body)).status, JSON.stringify(body)).toBe(422);
    }
  });

  it('raises can_configs.applied_version on an APPLY_CAN_CONFIG success, never downwards', async () => {
    const fleet = await createFleet(app);
    await app.db.prisma.canConfig.create({ data: { dongleId: fleet.dongle.id, version: 3 } });
    const [v2, v3] = await app.db.prisma.$transaction(async (tx) => [
      await enqueueCommand(tx, { dongleId: fleet.dongle.id, type: 'APPLY_CAN_CONFIG', payload: { version: 2 }, createdByUserId: fleet.operator.user.id }),
      await enqueueCommand(tx, { dongleId: fleet.dongle.id, type: 'APPLY_CAN_CONFIG', payload: { version: 3 }, createdByUserId: fleet.operator.user.id }),
    ]);
    expect(ids(await pollAs(app, fleet.agent.authorization)).sort()).toEqual([v2!.id, v3!.id].sort());
    await postResult(app, fleet.agent.authorization, v3!.id, { status: 'SUCCEEDED', result: { appliedVersion: 3 } }).expect(200);
    await postResult(app, fleet.agent.authorization, v2!.id, { status: 'SUCCEEDED', result: { appliedVersion: 2 } }).expect(200);
    expect((await app.db.prisma.canConfig.findUnique({ where: { dongleId: fleet.dongle.id } }))?.appliedVersion).toBe(3);
  });
});
