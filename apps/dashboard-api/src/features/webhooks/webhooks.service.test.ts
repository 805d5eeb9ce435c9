// A webhook change is one Prisma transaction: the webhook is read on that transaction, not on a
// second connection while the first is held (which needed two connections per change, read
// outside the change's snapshot, and with a pool of one never finished).
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { connectDatabase, type Database } from '../../platform/database.ts';
import { createLogger } from '../../platform/logger.ts';
import { testConfig } from '../../../test/support/test-app.ts';
import { createTestOrganization } from '../../../test/support/organizations.ts';
import type { OrgScope } from '../organizations/org-scope.ts';
import { createWebhooksService } from './webhooks.service.ts';

let db: Database;
beforeAll(() => {
  // One connection: any statement outside the open transaction waits for it.
  db = connectDatabase({ url: inject('databaseUrl'), poolMax: 1, logger: createLogger({ level: 'silent' }) });
});
afterAll(() => db.close());

async function webhookOfNewOrganization(): Promise<{ scope: OrgScope; webhookId: string }> {
  const orgId = await createTestOrganization(db, 'webhook tx');
  const user = await db.prisma.user.create({ data: { email: `hook-${randomUUID()}@example.test`, passwordHash: 'x' } });
  const webhook = await db.prisma.webhook.create({ data: { organizationId: orgId, url: 'https://hooks.example.test/in', secretSealed: new Uint8Array([1]) } });
  return { scope: { orgId, role: 'owner', userId: user.id, apiKeyId: null }, webhookId: webhook.id };
}

describe('webhook changes', () => {
  const service = () =>
    createWebhooksService({ db, keyRing: () => { throw new Error('not used'); }, settings: testConfig().webhooks });
  const context = { ip: '127.0.0.1', userAgent: 'test' };

  it('update reads the webhook on its own transaction (finishes on a one-connection pool)', async () => {
    const { scope, webhookId } = await webhookOfNewOrganization();
    const updated = await service().update(scope, webhookId, { description: 'renamed', enabled: false }, context);
    expect(updated.description).toBe('renamed');
    expect(updated.enabled).toBe(false);
  });

  it('the test message and delete read it on their own transaction too', async () => {
    const { scope, webhookId } = await webhookOfNewOrganization();
    expect((await service().test(scope, webhookId, context)).deliveryId).toMatch(/^[0-9a-f-]{36}$/);
    await service().remove(scope, webhookId, context);
    expect(await db.prisma.webhook.findUnique({ where: { id: webhookId } })).toBeNull();
  });
});
