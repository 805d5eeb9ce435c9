// Webhooks over real HTTP against a real receiver on loopback (WEBHOOK_ALLOW_PRIVATE_NETWORKS on):
// signatures checked with the `standardwebhooks` package, retries after 500s and timeouts with the
// same webhook-id, the delivery log, automatic disable with an email to the admins, secret
// rotation with an overlap, the test route, roles, SSRF refusal at save time, and scoping.
import { randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { recordEvent } from '../../src/platform/events/event-writer.ts';
import { createLoggedInUser, type LoggedIn } from '../support/factories.ts';
import { csrf, startFleetApp } from '../support/fleet.ts';
import { waitForEmails } from '../support/mail.ts';
import { joinAs } from '../support/orgs.ts';
import { applyMigrations } from '../../src/tooling/migrator.ts';
import { createScratchDatabase, type ScratchDatabase } from '../support/scratch-database.ts';
import { testConfig, type TestApp } from '../support/test-app.ts';
import { startReceiver, type WebhookReceiver } from '../support/webhook-receiver.ts';

let app: TestApp;
let scratch: ScratchDatabase;
let receiver: WebhookReceiver;
let owner: LoggedIn & { user: { id: string; email: string } };
let orgId: string;

const base = testConfig().webhooks;

// A database of its own: this app's delivery worker (short timeout, quick give-up) would otherwise
// also deliver, and give up on, the webhooks of other test files running alongside on the shared
// database — exactly as a second production instance should, but not with these test settings.
beforeAll(async () => {
  scratch = await createScratchDatabase('webhooks');
  await applyMigrations(scratch.url);
  app = await startFleetApp(
    { webhooks: { ...base, deliveryEnabled: true, allowPrivateNetworks: true, timeoutMs: 700, retryScheduleMs: [150, 150, 150], disableAfterFailures: 6, disableAfterMs: 0, pollIntervalMs: 50 } },
    { databaseUrl: scratch.url },
  );
  receiver = await startReceiver();
  owner = await createLoggedInUser(app.db, app.url);
});
afterAll(async () => {
  await receiver.close();
  await app.stop();
  await scratch.drop();
});
// Each test gets its own organization: an event reaches every webhook of its organization, and
// the receiver's scripted replies must only meet this test's webhook.
beforeEach(async () => {
  orgId = (await owner.agent.post('/api/orgs').set(csrf(owner)).send({ name: 'hooks' })).body.id;
  receiver.received.length = 0;
  receiver.script([]);
  receiver.fallback = { status: 204 };
});

async function createHook(body: Record<string, unknown> = {}, org = orgId, by: LoggedIn = owner) {
  const res = await by.agent.post(`/api/orgs/${org}/webhooks`).set(csrf(by)).send({ url: `${receiver.url}/hook/${randomUUID()}`, ...body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { id: string; url: string; secret: string };
}

const emit = (type: 'dongle.online' | 'group.created', org = orgId, data: Record<string, unknown> = {}) =>
  app.db.prisma.$transaction((tx) => recordEvent(tx, { organizationId: org, type, subjectId: randomUUID(), data }));

const forHook = (hook: { url: string }) => receiver.received.filter((r) => r.path === new URL(hook.url).pathname);

async function waitForHook(hook: { url: string }, count: number) {
  const deadline = Date.now() + 20_000;
  while (forHook(hook).length < count) {
    if (Date.now() > deadline) throw new Error(`got ${forHook(hook).length} of ${count}; ${app.logs.filter((l) => l.includes('"level":40') || l.includes('"level":50')).slice(-3).join(' | ')}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return forHook(hook);
}

describe('webhook delivery', () => {
  it('signs each delivery so the standardwebhooks library verifies it, and shows the secret only once', async () => {
    const hook = await createHook({ eventTypes: ['dongle.online'], description: 'chat' });
    expect(hook.secret).toMatch(/^whsec_/);
    const listed = await owner.agent.get(`/api/orgs/${orgId}/webhooks/${hook.id}`);
    expect(listed.body).toMatchObject({ id: hook.id, description: 'chat', eventTypes: ['dongle.online'], enabled: true });
    expect(JSON.stringify(listed.body)).not.toContain(hook.secret.slice(6));
    const eventId = await emit('dongle.online', orgId, { lastSeenAt: 'now' });
    await emit('group.created'); // not subscribed
    const [delivery] = await waitForHook(hook, 1);
    const payload = new Webhook(hook.secret).verify(delivery!.body, delivery!.headers as Record<string, string>) as Record<string, unknown>;
    expect(payload).toMatchObject({ id: eventId.toString(), type: 'dongle.online', organizationId: orgId, data: { lastSeenAt: 'now' } });
    await new Promise((r) => setTimeout(r, 300));
    expect(forHook(hook)).toHaveLength(1);
    // No secret in the audit rows of the webhook.
    const audit = await app.db.prisma.auditLog.findMany({ where: { targetId: hook.id } });
    expect(audit.map((a) => a.action)).toContain('webhook.create');
    expect(JSON.stringify(audit)).not.toContain(hook.secret.slice(6));
  });

  it('retries after a 500 and after a timeout with the same webhook-id, and logs every attempt', async () => {
    const hook = await createHook();
    receiver.script([{ status: 500, body: 'boom '.repeat(400) }, { status: 200, delayMs: 2_000 }, { status: 200, body: 'ok' }]);
    await emit('dongle.online');
    const attempts = await waitForHook(hook, 3);
    const ids = new Set(attempts.map((a) => a.headers['webhook-id']));
    expect(ids.size).toBe(1);
    for (const a of attempts) expect(new Webhook(hook.secret).verify(a.body, a.headers as Record<string, string>)).toBeTruthy();
    let log;
    for (let i = 0; i < 100; i++) {
      log = (await owner.agent.get(`/api/orgs/${orgId}/webhooks/${hook.id}/deliveries`)).body.items[0];
      if (log?.status === 'succeeded') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(log).toMatchObject({ id: [...ids][0], status: 'succeeded', eventType: 'dongle.online' });
    expect(log.attempts.map((a: { statusCode: number | null }) => a.statusCode)).toEqual([500, null, 200]);
    expect(log.attempts[0].response).toHaveLength(1024);
    expect(log.attempts[1].error).toBe('timeout');
    expect(log.attempts[2]).toMatchObject({ response: 'ok', error: null });
    expect(log.attempts.every((a: { durationMs: number }) => typeof a.durationMs === 'number')).toBe(true);
  });

  it('gives up after the last scheduled retry', async () => {
    const hook = await createHook();
    receiver.fallback = { status: 503 };
    await emit('group.created');
    await waitForHook(hook, 4);
    await new Promise((r) => setTimeout(r, 500));
    expect(forHook(hook)).toHaveLength(4); // first attempt + 3 retries
    const log = (await owner.agent.get(`/api/orgs/${orgId}/webhooks/${hook.id}/deliveries`)).body.items[0];
    expect(log.status).toBe('failed');
  });

  it('disables a webhook after repeated failures and emails the organization’s admins', async () => {
    const admin = await joinAs(app, owner, orgId, 'admin');
    const hook = await createHook();
    receiver.fallback = { status: 500 };
    await emit('group.created');
    await emit('group.created');
    await waitForHook(hook, 6);
    let state;
    for (let i = 0; i < 100; i++) {
      state = (await owner.agent.get(`/api/orgs/${orgId}/webhooks/${hook.id}`)).body;
      if (!state.enabled) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(state).toMatchObject({ enabled: false, disabledReason: expect.stringMatching(/6 consecutive/) });
    // An attempt already in flight when the sixth failure disabled it may still land; nothing after.
    await new Promise((r) => setTimeout(r, 800));
    const sent = forHook(hook).length;
    expect(sent).toBeGreaterThanOrEqual(6);
    await new Promise((r) => setTimeout(r, 600));
    expect(forHook(hook)).toHaveLength(sent);
    const [toOwner] = await waitForEmails(app.db, owner.user.email.toLowerCase());
    expect(toOwner!.subject).toMatch(/disabled/);
    await waitForEmails(app.db, admin.user.email.toLowerCase());
    const events = await owner.agent.get(`/api/orgs/${orgId}/events?type=webhook.disabled`);
    expect(events.body.items.map((e: { subject: { id: string } }) => e.subject.id)).toContain(hook.id);
    // Re-enabling clears the failure count and delivers again.
    receiver.fallback = { status: 204 };
    const enabled = await owner.agent.patch(`/api/orgs/${orgId}/webhooks/${hook.id}`).set(csrf(owner)).send({ enabled: true });
    expect(enabled.body).toMatchObject({ enabled: true, consecutiveFailures: 0, disabledReason: null });
    await emit('group.created');
    await waitForHook(hook, sent + 1);
  });

  it('signs with the old and the new secret during a rotation overlap, then only the new', async () => {
    const hook = await createHook();
    const rotated = await owner.agent.post(`/api/orgs/${orgId}/webhooks/${hook.id}/rotate-secret`).set(csrf(owner)).send({ overlapSeconds: 3600 });
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).not.toBe(hook.secret);
    expect(rotated.body.previousSecretExpiresAt).not.toBeNull();
    await emit('dongle.online');
    const [first] = await waitForHook(hook, 1);
    const headers = first!.headers as Record<string, string>;
    expect(headers['webhook-signature']!.split(' ')).toHaveLength(2);
    expect(new Webhook(hook.secret).verify(first!.body, headers)).toBeTruthy();
    expect(new Webhook(rotated.body.secret).verify(first!.body, headers)).toBeTruthy();
    const ended = await owner.agent.post(`/api/orgs/${orgId}/webhooks/${hook.id}/rotate-secret`).set(csrf(owner)).send({ overlapSeconds: 0 });
    await emit('dongle.online');
    const [, second] = await waitForHook(hook, 2);
    expect(() => new Webhook(rotated.body.secret).verify(second!.body, second!.headers as Record<string, string>)).toThrow();
    expect(new Webhook(ended.body.secret).verify(second!.body, second!.headers as Record<string, string>)).toBeTruthy();
  });

  it('sends a signed webhook.test message from the test route', async () => {
    const hook = await createHook();
    const queued = await owner.agent.post(`/api/orgs/${orgId}/webhooks/${hook.id}/test`).set(csrf(owner));
    expect(queued.status).toBe(202);
    const [message] = await waitForHook(hook, 1);
    expect(message!.headers['webhook-id']).toBe(queued.body.deliveryId);
    expect(new Webhook(hook.secret).verify(message!.body, message!.headers as Record<string, string>)).toMatchObject({ type: 'webhook.test' });
  });
});

describe('webhook management', () => {
  it('lets only admins and owners manage webhooks (operator and viewer: 403)', async () => {
    const operator = await joinAs(app, owner, orgId, 'operator');
    const viewer = await joinAs(app, owner, orgId, 'viewer');
    for (const member of [operator, viewer]) {
      const res = await member.agent.post(`/api/orgs/${orgId}/webhooks`).set(csrf(member)).send({ url: `${receiver.url}/x` });
      expect(res.status).toBe(403);
      expect((await member.agent.get(`/api/orgs/${orgId}/webhooks`)).status).toBe(403);
    }
  });

  it('answers 404 for another organization’s webhook and never delivers its events to us', async () => {
    const other = await createLoggedInUser(app.db, app.url);
    const otherOrg = (await other.agent.post('/api/orgs').set(csrf(other)).send({ name: 'other' })).body.id as string;
    const theirs = await createHook({}, otherOrg, other);
    const mine = await createHook();
    for (const [method, path] of [
      ['get', ''],
      ['patch', ''],
      ['delete', ''],
      ['post', '/rotate-secret'],
      ['post', '/test'],
      ['get', '/deliveries'],
    ] as const) {
      const res = await owner.agent[method](`/api/orgs/${orgId}/webhooks/${theirs.id}${path}`).set(csrf(owner)).send(method === 'patch' ? { description: 'x' } : {});
      expect(res.status, `${method} ${path}`).toBe(404);
    }
    await emit('dongle.online', otherOrg, { marker: 'theirs' });
    await emit('dongle.online', orgId, { marker: 'mine' });
    await waitForHook(mine, 1);
    await waitForHook(theirs, 1);
    expect(forHook(mine).every((r) => !r.body.includes('theirs'))).toBe(true);
  });

  it('refuses loopback, private and metadata URLs when private networks are not allowed', async () => {
    const strict = await startFleetApp();
    try {
      const user = await createLoggedInUser(strict.db, strict.url);
      const org = (await user.agent.post('/api/orgs').set(csrf(user)).send({ name: 'strict' })).body.id as string;
      for (const url of ['http://127.0.0.1/x', 'http://10.0.0.1/x', 'http://169.254.169.254/latest/meta-data', 'http://[::1]/x', 'http://localhost/x']) {
        const res = await user.agent.post(`/api/orgs/${org}/webhooks`).set(csrf(user)).send({ url });
        expect(res.status, url).toBe(422);
        expect(res.body.error.details[0].message).toMatch(/refused/);
      }
      const bad = await user.agent.post(`/api/orgs/${org}/webhooks`).set(csrf(user)).send({ url: 'ftp://example.com/', eventTypes: ['nope'] });
      expect(bad.status).toBe(422);
      expect(bad.body.error.details).toHaveLength(2);
    } finally {
      await strict.stop();
    }
  });
});
