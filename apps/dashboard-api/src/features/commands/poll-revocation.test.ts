// Issue 9, item 2: revocation takes effect on polls already waiting. A long-poll started before
// the agent's deletion, its token's rotation or its owner's suspension gets nothing created
// after, and no command is marked DELIVERED to it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLoggedInUser } from '../../../test/support/factories.ts';
import { startTestApp, type TestApp } from '../../../test/support/test-app.ts';
import { CLAIM, claimParams } from './commands.sql.ts';
import { enqueueCommand } from './command-queue.ts';
import { createFleet, notifierOf, pollAs, type Fleet } from '../../../test/support/command-fixtures.ts';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.stop());

async function untilWaiting(count: number) {
  const notifier = notifierOf(app);
  await expect.poll(() => notifier.waiting, { timeout: 10_000 }).toBeGreaterThanOrEqual(count);
}

/** A REBOOT queued after the revocation, by the system (the operator may be suspended). */
async function rebootAfter(fleet: Fleet) {
  return app.db.prisma.$transaction((tx) => enqueueCommand(tx, { dongleId: fleet.dongle.id, type: 'REBOOT', payload: {}, createdByUserId: null }));
}

async function expectNotDelivered(commandId: string) {
  expect(await app.db.prisma.command.findUniqueOrThrow({ where: { id: commandId } })).toMatchObject({ status: 'QUEUED', agentId: null, deliveredAt: null });
}

describe('a poll waiting when access is revoked', () => {
  it('gets nothing after DELETE /api/agents/:id, and ends without waiting out its time', async () => {
    const fleet = await createFleet(app);
    const waiting = pollAs(app, fleet.agent.authorization, 30).then((res) => res);
    await untilWaiting(1);
    const deleted = await fleet.operator.agent.delete(`/api/agents/${fleet.agent.agent.id}`).set('X-CSRF-Token', fleet.operator.csrfToken);
    expect(deleted.status).toBe(204);
    const reboot = await rebootAfter(fleet);
    const res = await waiting;
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ commands: [] });
    await expectNotDelivered(reboot.id);
  });

  it('gets nothing after its token is rotated; the new token gets the command', async () => {
    const fleet = await createFleet(app);
    const waiting = pollAs(app, fleet.agent.authorization, 30).then((res) => res);
    await untilWaiting(1);
    const rotated = await app.http.post('/api/agent/token/rotate').set('Authorization', fleet.agent.authorization);
    expect(rotated.status).toBe(200);
    const reboot = await rebootAfter(fleet);
    expect((await waiting).body).toEqual({ commands: [] });
    await expectNotDelivered(reboot.id);
    const fresh = await pollAs(app, `Bearer ${rotated.body.token}`, 0);
    expect(fresh.body.commands.map((c: { id: string }) => c.id)).toEqual([reboot.id]);
  });

  it('gets nothing after its owner is suspended', async () => {
    const fleet = await createFleet(app);
    const admin = await createLoggedInUser(app.db, app.url, { role: 'admin' });
    const waiting = pollAs(app, fleet.agent.authorization, 30).then((res) => res);
    await untilWaiting(1);
    const suspended = await admin.agent.patch(`/api/admin/users/${fleet.operator.user.id}`).set('X-CSRF-Token', admin.csrfToken).send({ status: 'suspended' });
    expect(suspended.status).toBe(200);
    const reboot = await rebootAfter(fleet);
    expect((await waiting).body).toEqual({ commands: [] });
    await expectNotDelivered(reboot.id);
  });

  it('the hand-out statement itself refuses a revoked token, a deleted agent and a suspended owner', async () => {
    for (const revoke of [
      (f: Fleet) => app.db.pool.query(`UPDATE agent_tokens SET revoked_at = now() WHERE id = $1`, [f.agent.tokenId]),
      (f: Fleet) => app.db.pool.query(`UPDATE agents SET revoked_at = now() WHERE id = $1`, [f.agent.agent.id]),
      (f: Fleet) => app.db.pool.query(`UPDATE users SET status = 'suspended' WHERE id = $1`, [f.operator.user.id]),
    ]) {
      const fleet = await createFleet(app);
      await revoke(fleet);
      const reboot = await rebootAfter(fleet);
      // What a poll authenticated before the revocation runs next.
      const { rows } = await app.db.pool.query(CLAIM.text, claimParams({ id: fleet.agent.agent.id, organizationId: fleet.agent.agent.organizationId, tokenId: fleet.agent.tokenId }, 10));
      expect(rows).toEqual([]);
      await expectNotDelivered(reboot.id);
    }
  });
});
