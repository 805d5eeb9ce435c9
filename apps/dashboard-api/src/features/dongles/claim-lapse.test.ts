// A claim that is never completed lapses back to UNCLAIMED, so a stale or hostile claim cannot
// hold a dongle forever.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomDeviceId } from '../../../test/support/factories.ts';
import { activeDongle, claim, createOperator, heartbeat, startFleetApp } from '../../../test/support/fleet.ts';
import { createScratchDatabase } from '../../../test/support/scratch-database.ts';
import type { TestApp } from '../../../test/support/test-app.ts';
import { applyMigrations } from '../../tooling/migrator.ts';
import { cancelQueuedCommands } from '../commands/command-queue.ts';
import { lapseStaleClaims } from './claim-lapse.ts';

const FIFTEEN_MINUTES = 15 * 60_000;

let app: TestApp;
beforeAll(async () => {
  app = await startFleetApp();
});
afterAll(() => app.stop());

const dongleRow = (deviceId: string) => app.db.prisma.dongle.findUniqueOrThrow({ where: { deviceId }, include: { token: true } });
const backdate = (deviceId: string, minutes: number) =>
  app.db.pool.query(`UPDATE dongles SET state_changed_at = now() - make_interval(mins => $2) WHERE device_id = $1`, [deviceId, minutes]);

/** An operator's claim left pending after the token exchange (the ack never came). */
async function pendingClaimWithToken() {
  const squatter = await createOperator(app);
  const deviceId = randomDeviceId();
  await heartbeat(app, squatter.agentAuth, [deviceId]);
  expect((await claim(app, squatter, deviceId)).status).toBe(202);
  expect((await app.http.post(`/api/agent/dongles/${deviceId}/token`).set('Authorization', squatter.agentAuth)).status).toBe(200);
  return { squatter, deviceId };
}

describe('claim lapse', () => {
  it('stamps state_changed_at on every ownership change, whoever writes it', async () => {
    const me = await createOperator(app);
    const deviceId = randomDeviceId();
    await heartbeat(app, me.agentAuth, [deviceId]);
    await backdate(deviceId, 60);
    const before = (await dongleRow(deviceId)).stateChangedAt;
    expect((await claim(app, me, deviceId)).status).toBe(202);
    const after = (await dongleRow(deviceId)).stateChangedAt;
    expect(after.getTime()).toBeGreaterThan(before.getTime() + 30 * 60_000);
    // A write that does not change the state leaves it alone.
    await app.db.pool.query(`UPDATE dongles SET firmware_version = 'x' WHERE device_id = $1`, [deviceId]);
    expect((await dongleRow(deviceId)).stateChangedAt).toEqual(after);
  });

  it('returns a claim pending past the timeout to UNCLAIMED, destroys its token and audits it; another operator can then claim it', async () => {
    const { squatter, deviceId } = await pendingClaimWithToken();
    const claimedIn = (await dongleRow(deviceId)).organizationId;
    expect(claimedIn).not.toBeNull();
    expect((await dongleRow(deviceId)).token).not.toBeNull();
    await backdate(deviceId, 16);

    expect(await lapseStaleClaims(app.db, cancelQueuedCommands, FIFTEEN_MINUTES)).toBeGreaterThanOrEqual(1);

    const row = await dongleRow(deviceId);
    expect(row).toMatchObject({ ownershipState: 'UNCLAIMED', ownerUserId: null, name: null, token: null });
    const audit = await app.db.prisma.auditLog.findFirstOrThrow({ where: { action: 'dongle.claim_lapse', targetId: row.id } });
    // In the organization the claim was made in: its admins' audit log shows the lapse.
    expect(audit).toMatchObject({ actorType: 'system', result: 'success', organizationId: claimedIn });
    expect(audit.details).toMatchObject({ deviceId, claimedBy: squatter.user.id, from: 'CLAIM_PENDING', to: 'UNCLAIMED' });
    // The squatter's view of it is gone; the real holder's agent reports it and claims it.
    expect((await squatter.agent.get(`/api/dongles/${row.id}`)).status).toBe(404);
    const owner = await createOperator(app);
    await heartbeat(app, owner.agentAuth, [deviceId]);
    expect((await claim(app, owner, deviceId)).status).toBe(202);
  });

  it('leaves a claim inside its timeout, and claimed dongles of any age, untouched', async () => {
    const { deviceId: fresh } = await pendingClaimWithToken();
    await backdate(fresh, 14);
    const owner = await createOperator(app);
    const active = await activeDongle(app, owner);
    await backdate(active.deviceId, 24 * 60);

    await lapseStaleClaims(app.db, cancelQueuedCommands, FIFTEEN_MINUTES);

    expect((await dongleRow(fresh)).ownershipState).toBe('CLAIM_PENDING');
    expect((await dongleRow(fresh)).token).not.toBeNull();
    expect((await dongleRow(active.deviceId)).ownershipState).toBe('CLAIMED_ACTIVE');
  });

  it('runs by itself in the background with no request touching the dongle', async () => {
    // A 1 s timeout would lapse other test files' CLAIM_PENDING dongles on the shared database,
    // so this app gets a scratch database of its own.
    const scratch = await createScratchDatabase('claim_lapse');
    let quick: TestApp | undefined;
    try {
      await applyMigrations(scratch.url);
      quick = await startFleetApp({ claims: { pendingTimeoutMs: 1_000, lapseIntervalMs: 200 } }, { databaseUrl: scratch.url });
      const me = await createOperator(quick);
      const deviceId = randomDeviceId();
      await heartbeat(quick, me.agentAuth, [deviceId]);
      expect((await claim(quick, me, deviceId)).status).toBe(202);
      let state = 'CLAIM_PENDING';
      for (let waited = 0; state === 'CLAIM_PENDING' && waited < 30_000; waited += 250) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        state = (await quick.db.prisma.dongle.findUniqueOrThrow({ where: { deviceId } })).ownershipState;
      }
      expect(state).toBe('UNCLAIMED');
    } finally {
      await quick?.stop();
      await scratch.drop();
    }
  });
});
