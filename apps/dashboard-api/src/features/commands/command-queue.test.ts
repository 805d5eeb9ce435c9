import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDongle, createUser } from '../../../test/support/factories.ts';
import { startTestApp, type TestApp } from '../../../test/support/test-app.ts';
import { personalOrganizationId } from '../organizations/personal.ts';
import { COMMANDS_CHANNEL, enqueueCommand } from './command-queue.ts';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.stop());

describe('enqueueCommand', () => {
  it('queues a command with its expiry, audits it and notifies the owner at commit', async () => {
    const user = await createUser(app.db);
    const dongle = await createDongle(app.db, { ownerUserId: user.id });
    const listener = new pg.Client({ connectionString: app.db.url });
    await listener.connect();
    const heard: string[] = [];
    listener.on('notification', (n) => heard.push(String(n.payload)));
    await listener.query(`LISTEN ${COMMANDS_CHANNEL}`);
    try {
      const command = await app.db.prisma.$transaction((tx) =>
        enqueueCommand(tx, { dongleId: dongle.id, type: 'APPLY_CAN_CONFIG', payload: { version: 2, mode: 'NORMAL' }, createdByUserId: null, ttlSeconds: 120 }),
      );
      expect(command.status).toBe('QUEUED');
      expect(command.payload).toEqual({ version: 2, mode: 'NORMAL' });
      const ttl = (command.expiresAt.getTime() - command.createdAt.getTime()) / 1000;
      expect(ttl).toBeCloseTo(120, 0);
      const audit = await app.db.prisma.auditLog.findFirst({ where: { targetId: command.id, action: 'command.create' } });
      expect(audit?.actorType).toBe('system');
      // Wakes the pollers of the dongle's organization.
      await expect.poll(() => heard).toContain(await personalOrganizationId(app.db.prisma, user.id));
    } finally {
      await listener.end();
    }
  });

  it('refuses a dongle that is not CLAIMED_ACTIVE with 409, and another organization with 404', async () => {
    const user = await createUser(app.db);
    const other = await createUser(app.db);
    const pending = await createDongle(app.db, { ownerUserId: user.id, state: 'CLAIM_PENDING' });
    const active = await createDongle(app.db, { ownerUserId: user.id });
    const otherOrg = await personalOrganizationId(app.db.prisma, other.id);
    await expect(
      app.db.prisma.$transaction((tx) => enqueueCommand(tx, { dongleId: pending.id, type: 'PING', payload: {}, createdByUserId: user.id })),
    ).rejects.toMatchObject({ status: 409, code: 'dongle_not_active' });
    await expect(
      app.db.prisma.$transaction((tx) => enqueueCommand(tx, { dongleId: active.id, type: 'PING', payload: {}, createdByUserId: other.id, organizationId: otherOrg })),
    ).rejects.toMatchObject({ status: 404 });
  });
});
