// Issue 9, item 1: a command never outlives the ownership it was created under. Operator A
// queues a long-lived frame, the dongle leaves A (release ack, force-release, claim lapse) and
// operator B claims it with B's agent: B's agent must not receive A's frame, and A must not read
// anything B's agent produced.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLoggedInUser, randomDeviceId } from '../../../test/support/factories.ts';
import { activeDongle, claim, createOperator, csrf, heartbeat, startFleetApp, type Operator } from '../../../test/support/fleet.ts';
import type { TestApp } from '../../../test/support/test-app.ts';
import { lapseStaleClaims } from '../dongles/claim-lapse.ts';
import { cancelQueuedCommands } from './command-queue.ts';

let app: TestApp;
beforeAll(async () => {
  app = await startFleetApp();
});
afterAll(() => app.stop());

const FRAME = { type: 'SEND_FRAME', payload: { canId: 0x123, data: 'deadbeef' }, ttlSeconds: 3600 };

const send = (operator: Operator, dongleId: string, body: object) => operator.agent.post(`/api/dongles/${dongleId}/commands`).set(csrf(operator)).send(body);
const poll = (agentAuth: string) => app.http.get('/api/agent/commands?wait=0').set('Authorization', agentAuth);

/** A's dongle with A's frame queued (ttl 1 h). */
async function aQueuesAFrame() {
  const a = await createOperator(app);
  const dongle = await activeDongle(app, a);
  const sent = await send(a, dongle.id, FRAME);
  expect(sent.status, JSON.stringify(sent.body)).toBe(201);
  return { a, dongle, frameId: sent.body.id as string };
}

/** B reports, claims and activates the same device with B's own agent. */
async function bTakesOver(deviceId: string) {
  const b = await createOperator(app);
  const taken = await activeDongle(app, b, deviceId);
  return { b, taken };
}

/** B's agent gets nothing of A's; A's frame is CANCELLED with the reason; A cannot read B's result. */
async function expectNothingCrossesOver(a: Operator, b: Operator, dongleId: string, frameId: string, reason: string) {
  const bPoll = await poll(b.agentAuth);
  expect(bPoll.status).toBe(200);
  expect(bPoll.body.commands.map((c: { id: string }) => c.id)).not.toContain(frameId);
  expect(bPoll.body.commands).toEqual([]);

  const frame = await a.agent.get(`/api/commands/${frameId}`);
  expect(frame.status).toBe(200);
  expect(frame.body).toMatchObject({ status: 'CANCELLED', result: null });
  const audit = await app.db.prisma.auditLog.findFirstOrThrow({ where: { action: 'command.cancel', targetId: frameId } });
  expect(audit.details).toMatchObject({ dongleId, type: 'SEND_FRAME', reason });
  // …and the previous owner's dashboards and webhooks are told, in the previous owner's organization.
  const event = await app.db.prisma.event.findFirstOrThrow({ where: { type: 'command.cancelled', subjectId: frameId } });
  expect(event.data).toMatchObject({ dongleId, type: 'SEND_FRAME', reason });
  expect(event.organizationId).toBe((await app.db.prisma.command.findUniqueOrThrow({ where: { id: frameId } })).organizationId);
  // The audit row too belongs to that organization (its admins' audit log), whoever cancelled.
  expect(audit.organizationId).toBe(event.organizationId);

  // B's own command runs and B reads its result; A gets 404 for it.
  const mine = await send(b, dongleId, { type: 'PING' });
  expect(mine.status).toBe(201);
  const delivered = await poll(b.agentAuth);
  expect(delivered.body.commands.map((c: { id: string }) => c.id)).toEqual([mine.body.id]);
  const result = await app.http.post(`/api/agent/commands/${mine.body.id}/result`).set('Authorization', b.agentAuth).send({ status: 'SUCCEEDED', result: { pong: true } });
  expect(result.status).toBe(200);
  expect((await a.agent.get(`/api/commands/${mine.body.id}`)).status).toBe(404);
  expect((await b.agent.get(`/api/commands/${mine.body.id}`)).body).toMatchObject({ status: 'SUCCEEDED', result: { pong: true } });
}

describe('commands and the end of an ownership', () => {
  it('after a release and its ack, the new owner’s agent does not receive the previous owner’s frame', async () => {
    const { a, dongle, frameId } = await aQueuesAFrame();
    expect((await a.agent.post(`/api/dongles/${dongle.id}/release`).set(csrf(a)).send()).status).toBe(202);
    // The release ends the queue at once: nothing of A's stays QUEUED while the ack is pending.
    expect(await app.db.prisma.command.findUniqueOrThrow({ where: { id: frameId } })).toMatchObject({ status: 'CANCELLED', error: 'cancelled: the dongle was released' });
    const acked = await app.http.post(`/api/agent/dongles/${dongle.deviceId}/release/ack`).set('Authorization', a.agentAuth);
    expect(acked.status, JSON.stringify(acked.body)).toBe(200);

    const { b } = await bTakesOver(dongle.deviceId);
    await expectNothingCrossesOver(a, b, dongle.id, frameId, 'dongle_released');
  });

  it('after an admin force-release, likewise', async () => {
    const { a, dongle, frameId } = await aQueuesAFrame();
    const admin = await createLoggedInUser(app.db, app.url, { role: 'admin' });
    const forced = await admin.agent.post(`/api/admin/dongles/${dongle.id}/force-release`).set('X-CSRF-Token', admin.csrfToken).send();
    expect(forced.status, JSON.stringify(forced.body)).toBe(200);
    const audit = await app.db.prisma.auditLog.findFirstOrThrow({ where: { action: 'command.cancel', targetId: frameId } });
    expect(audit).toMatchObject({ actorType: 'user', actorId: admin.user.id });

    const { b } = await bTakesOver(dongle.deviceId);
    await expectNothingCrossesOver(a, b, dongle.id, frameId, 'dongle_force_released');
  });

  it('after a claim lapse, a command still queued for the dongle is cancelled and never reaches the next owner', async () => {
    // A claim that lapses never reached CLAIMED_ACTIVE, so no API path queues for it; the row is
    // written directly, as a path we did not foresee would leave it.
    const a = await createOperator(app);
    const deviceId = randomDeviceId();
    await heartbeat(app, a.agentAuth, [deviceId]);
    const claimed = await claim(app, a, deviceId);
    expect(claimed.status).toBe(202);
    const [{ id: frameId }] = (
      await app.db.pool.query(
        `INSERT INTO commands (dongle_id, created_by_user_id, type, payload, expires_at) VALUES ($1, $2, 'SEND_FRAME', '{"canId":1,"data":"00"}', now() + interval '1 hour') RETURNING id`,
        [claimed.body.id, a.user.id],
      )
    ).rows;
    await app.db.pool.query(`UPDATE dongles SET state_changed_at = now() - interval '16 minutes' WHERE device_id = $1`, [deviceId]);
    expect(await lapseStaleClaims(app.db, cancelQueuedCommands, 15 * 60_000)).toBeGreaterThanOrEqual(1);
    const audit = await app.db.prisma.auditLog.findFirstOrThrow({ where: { action: 'command.cancel', targetId: frameId } });
    expect(audit).toMatchObject({ actorType: 'system' });

    const { b } = await bTakesOver(deviceId);
    await expectNothingCrossesOver(a, b, claimed.body.id, frameId, 'claim_lapsed');
  });

  it('the hand-out itself refuses a command created before the current ownership began, whatever left it QUEUED', async () => {
    const { a, dongle, frameId } = await aQueuesAFrame();
    const { b } = await (async () => {
      await a.agent.post(`/api/dongles/${dongle.id}/release`).set(csrf(a)).send();
      await app.http.post(`/api/agent/dongles/${dongle.deviceId}/release/ack`).set('Authorization', a.agentAuth);
      return bTakesOver(dongle.deviceId);
    })();
    // Undo the cancellation by hand, and hand the frame to B as if B had created it (the worst
    // case): only its age relative to B's ownership keeps it from B's agent.
    await app.db.pool.query(`UPDATE commands SET status = 'QUEUED', completed_at = NULL, error = NULL, created_by_user_id = $2 WHERE id = $1`, [frameId, b.user.id]);
    const row = await app.db.prisma.dongle.findUniqueOrThrow({ where: { id: dongle.id } });
    expect(row.ownedSince).not.toBeNull();
    expect((await poll(b.agentAuth)).body.commands).toEqual([]);
    expect(await app.db.prisma.command.findUniqueOrThrow({ where: { id: frameId } })).toMatchObject({ status: 'QUEUED', agentId: null });
  });

  it('stamps owned_since when an owner arrives and clears it when the dongle is unowned, whoever writes', async () => {
    const a = await createOperator(app);
    const dongle = await activeDongle(app, a);
    const owned = await app.db.prisma.dongle.findUniqueOrThrow({ where: { id: dongle.id } });
    expect(owned.ownedSince).toBeInstanceOf(Date);
    await app.db.pool.query(`UPDATE dongles SET name = 'x' WHERE id = $1`, [dongle.id]);
    expect((await app.db.prisma.dongle.findUniqueOrThrow({ where: { id: dongle.id } })).ownedSince).toEqual(owned.ownedSince);
    await app.db.pool.query(`UPDATE dongles SET owner_user_id = NULL, ownership_state = 'UNCLAIMED' WHERE id = $1`, [dongle.id]);
    expect((await app.db.prisma.dongle.findUniqueOrThrow({ where: { id: dongle.id } })).ownedSince).toBeNull();
  });
});
