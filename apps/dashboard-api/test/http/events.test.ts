// The event log over real HTTP: who may read and stream an organization's events (members, with
// a cookie session or an API key; never another organization's), the list's filters and keyset,
// the stream's per-user cap, and streams closed when the session ends or the member is removed.
// Events emitted by the real change points (claim, commands, CAN config, groups) are checked too.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_TYPE_NAMES, EVENT_TYPES, type EventType } from '../../src/platform/events/event-types.ts';
import type { CommandNotifier } from '../../src/features/commands/command-notifier.ts';
import { EventHub } from '../../src/features/events/event-hub.ts';
import { recordEvent } from '../../src/platform/events/event-writer.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { createAgent, createLoggedInUser, randomDeviceId, type LoggedIn } from '../support/factories.ts';
import { csrf, heartbeat, startFleetApp } from '../support/fleet.ts';
import { joinAs } from '../support/orgs.ts';
import { eventIds, openSse } from '../support/sse-client.ts';
import { testConfig, type TestApp } from '../support/test-app.ts';
import { startReceiver, type WebhookReceiver } from '../support/webhook-receiver.ts';

let app: TestApp;

async function orgOf(owner: LoggedIn, name: string): Promise<string> {
  const res = await owner.agent.post('/api/orgs').set(csrf(owner)).send({ name });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id as string;
}

const streamUrl = (orgId: string, query = '') => `${app.url}/api/orgs/${orgId}/events/stream${query}`;

async function emitIn(orgId: string, type: EventType, data: Record<string, unknown> = {}): Promise<bigint> {
  return app.db.prisma.$transaction((tx) => recordEvent(tx, { organizationId: orgId, type, subjectId: randomUUID(), data }));
}

let ownerA: Awaited<ReturnType<typeof createLoggedInUser>>;
let ownerB: Awaited<ReturnType<typeof createLoggedInUser>>;
let orgA: string;
let orgB: string;
let receiver: WebhookReceiver;
let hookA: string;

beforeAll(async () => {
  const base = testConfig();
  app = await startFleetApp({
    events: { ...base.events, recheckMs: 100, streamsPerUser: 3 },
    webhooks: { ...base.webhooks, deliveryEnabled: true, allowPrivateNetworks: true, pollIntervalMs: 100 },
  });
  receiver = await startReceiver();
  ownerA = await createLoggedInUser(app.db, app.url);
  ownerB = await createLoggedInUser(app.db, app.url);
  orgA = await orgOf(ownerA, 'A');
  orgB = await orgOf(ownerB, 'B');
  // A's webhook for every type, and B's own: B's events must only ever reach B's.
  const hook = await ownerA.agent.post(`/api/orgs/${orgA}/webhooks`).set(csrf(ownerA)).send({ url: `${receiver.url}/a` });
  expect(hook.status, JSON.stringify(hook.body)).toBe(201);
  hookA = hook.body.id;
  await ownerB.agent.post(`/api/orgs/${orgB}/webhooks`).set(csrf(ownerB)).send({ url: `${receiver.url}/b` });
});
afterAll(async () => {
  await app.stop();
  await receiver.close();
});

describe('GET /api/orgs/:orgId/events', () => {
  it('lists the organization’s events newest first, with type and subject filters and a keyset cursor', async () => {
    const org = await orgOf(ownerA, 'list');
    const subject = randomUUID();
    const ids: bigint[] = [];
    for (const type of ['dongle.online', 'dongle.offline', 'dongle.online'] as const) {
      ids.push(await app.db.prisma.$transaction((tx) => recordEvent(tx, { organizationId: org, type, subjectId: subject, data: { n: ids.length } })));
    }
    await emitIn(org, 'agent.online');
    const page1 = await ownerA.agent.get(`/api/orgs/${org}/events?subjectType=dongle&subjectId=${subject}&limit=2`);
    expect(page1.status).toBe(200);
    expect(page1.body.items.map((e: { id: string }) => e.id)).toEqual([ids[2]!.toString(), ids[1]!.toString()]);
    expect(page1.body.items[0]).toMatchObject({ type: 'dongle.online', subject: { type: 'dongle', id: subject }, data: { n: 2 } });
    const page2 = await ownerA.agent.get(`/api/orgs/${org}/events?subjectType=dongle&subjectId=${subject}&limit=2&cursor=${page1.body.nextCursor}`);
    expect(page2.body.items.map((e: { id: string }) => e.id)).toEqual([ids[0]!.toString()]);
    expect(page2.body.nextCursor).toBeNull();
    // The one cursor format of every list (platform/pagination.ts), not a bare event id.
    expect(JSON.parse(Buffer.from(page1.body.nextCursor, 'base64url').toString('utf8'))).toEqual([ids[1]!.toString()]);
    const bare = await ownerA.agent.get(`/api/orgs/${org}/events?cursor=${ids[1]!.toString()}`);
    expect(bare.status).toBe(422);
    expect(bare.body.error.details.map((d: { path: string }) => d.path)).toContain('query.cursor');
    const offline = await ownerA.agent.get(`/api/orgs/${org}/events?type=dongle.offline,agent.online`);
    expect(offline.body.items.map((e: { type: string }) => e.type).sort()).toEqual(['agent.online', 'dongle.offline']);
  });

  it('answers 422 with every problem for bad filters, and 404 to a non-member', async () => {
    const bad = await ownerA.agent.get(`/api/orgs/${orgA}/events?type=nope&limit=0&cursor=x`);
    expect(bad.status).toBe(422);
    const paths = bad.body.error.details.map((d: { path: string }) => d.path.split('.').slice(0, 2).join('.'));
    expect([...new Set(paths)].sort()).toEqual(['query.cursor', 'query.limit', 'query.type']);
    const outsider = await ownerB.agent.get(`/api/orgs/${orgA}/events`);
    expect(outsider.status).toBe(404);
    expect((await app.http.get(`/api/orgs/${orgA}/events`)).status).toBe(401);
  });
});

describe('scoping: a member of A never receives an event of B', () => {
  it.each(EVENT_TYPE_NAMES)('%s: not on A’s stream, not in A’s list, not to A’s webhook', async (type) => {
    const client = await openSse(streamUrl(orgA), { cookie: ownerA.cookie });
    expect(client.status).toBe(200);
    await new Promise((r) => setTimeout(r, 50));
    const theirs = await emitIn(orgB, type, { secretOfB: true });
    const mine = await emitIn(orgA, type);
    await client.waitFor((frames) => frames.some((f) => f.id === mine.toString()));
    client.close();
    expect(eventIds(client.frames)).not.toContain(Number(theirs));
    expect(client.frames.every((f) => !f.data.includes('secretOfB'))).toBe(true);
    const listed = await ownerA.agent.get(`/api/orgs/${orgA}/events?type=${type}&subjectType=${EVENT_TYPES[type]}`);
    expect(listed.body.items.map((e: { id: string }) => e.id)).toContain(mine.toString());
    expect(listed.body.items.map((e: { id: string }) => e.id)).not.toContain(theirs.toString());
    // Webhooks: A's delivery of its own event arrives; B's event was never owed to A's webhook.
    const deadline = Date.now() + 20_000;
    const toA = () => receiver.received.filter((r) => r.path === '/a').map((r) => JSON.parse(r.body).id as string);
    while (!toA().includes(mine.toString()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(toA()).toContain(mine.toString());
    expect(toA()).not.toContain(theirs.toString());
    const owed = await app.db.pool.query('SELECT 1 FROM webhook_deliveries WHERE webhook_id = $1::uuid AND event_id = $2::bigint', [hookA, theirs.toString()]);
    expect(owed.rowCount).toBe(0);
  });

  it('refuses B’s stream to A’s owner (404) and A’s stream to an anonymous caller (401)', async () => {
    const other = await openSse(streamUrl(orgB), { cookie: ownerA.cookie });
    expect(other.status).toBe(404);
    const anonymous = await openSse(streamUrl(orgA));
    expect(anonymous.status).toBe(401);
  });
});

describe('GET /api/orgs/:orgId/events/stream', () => {
  it('works with an API key, and resumes from ?lastEventId= with each event once', async () => {
    const key = await ownerA.agent.post(`/api/orgs/${orgA}/api-keys`).set(csrf(ownerA)).send({ name: 'stream', scope: 'read' });
    expect(key.status, JSON.stringify(key.body)).toBe(201);
    const first = await emitIn(orgA, 'group.created');
    const more = [await emitIn(orgA, 'group.updated'), await emitIn(orgA, 'group.deleted')];
    const client = await openSse(streamUrl(orgA, `?lastEventId=${first}`), { authorization: `Bearer ${key.body.key}` });
    expect(client.status).toBe(200);
    await client.waitFor((frames) => frames.length >= 2);
    client.close();
    expect(eventIds(client.frames).slice(0, 2)).toEqual(more.map(Number));
  });

  it('delivers an event whose NOTIFY never came (a writer that died after its commit) by the hub’s periodic catch-up, once', async () => {
    const org = await orgOf(ownerA, 'catch-up');
    // A hub whose LISTEN connection is up but never hears anything: only the catch-up can find the event.
    const deaf = { listen: () => () => undefined, onReconnect: () => () => undefined, isListening: true } as unknown as CommandNotifier;
    const hub = new EventHub({ db: app.db, listener: deaf, logger: createLogger({ level: 'silent' }), fallbackPollMs: 20 });
    hub.start();
    try {
      const seen: string[] = [];
      await hub.subscribe(org, { deliver: (rows) => seen.push(...rows.map((r) => r.id)) });
      const id = await app.db.prisma.$transaction((tx) => recordEvent(tx, { organizationId: org, type: 'dongle.online', subjectId: randomUUID() }, { notify: false }));
      await expect.poll(() => seen, { timeout: 5_000 }).toContain(id.toString());
      await new Promise((r) => setTimeout(r, 200)); // several more catch-ups
      expect(seen.filter((x) => x === id.toString())).toHaveLength(1);
    } finally {
      await hub.stop();
    }
  });

  it('rejects a malformed Last-Event-ID with 422', async () => {
    const client = await openSse(streamUrl(orgA), { cookie: ownerA.cookie, 'last-event-id': 'abc' });
    expect(client.status).toBe(422);
  });

  it('caps open streams per user with 429, and frees a slot when one closes', async () => {
    const user = await createLoggedInUser(app.db, app.url);
    const org = await orgOf(user, 'cap');
    const open = await Promise.all([1, 2, 3].map(() => openSse(streamUrl(org), { cookie: user.cookie })));
    expect(open.map((c) => c.status)).toEqual([200, 200, 200]);
    const refused = await app.http.get(`/api/orgs/${org}/events/stream`).set('Cookie', user.cookie);
    expect(refused.status).toBe(429);
    expect(refused.body.error).toMatchObject({ code: 'rate_limited' });
    open[0]!.close();
    await new Promise((r) => setTimeout(r, 200));
    const again = await openSse(streamUrl(org), { cookie: user.cookie });
    expect(again.status).toBe(200);
    for (const c of [...open, again]) c.close();
  });

  it('closes the stream of a session that logs out', async () => {
    const user = await createLoggedInUser(app.db, app.url);
    const org = await orgOf(user, 'logout');
    const client = await openSse(streamUrl(org), { cookie: user.cookie });
    expect(client.status).toBe(200);
    expect((await user.agent.post('/api/auth/logout').set(csrf(user))).status).toBeLessThan(300);
    await client.ended;
    expect(client.isEnded()).toBe(true);
  });

  it('closes a removed member’s stream, after the member.removed event', async () => {
    const viewer = await joinAs(app, ownerA, orgA, 'viewer');
    const client = await openSse(streamUrl(orgA), { cookie: viewer.cookie });
    expect(client.status).toBe(200);
    const removed = await ownerA.agent.delete(`/api/orgs/${orgA}/members/${viewer.user.id}`).set(csrf(ownerA));
    expect(removed.status).toBeLessThan(300);
    await client.ended;
    const last = client.frames.at(-1);
    expect(last).toMatchObject({ event: 'member.removed' });
    expect(JSON.parse(last!.data).subject.id).toBe(viewer.user.id);
  });

  it('carries an event committed through another API instance', async () => {
    const second = await startFleetApp();
    try {
      const client = await openSse(streamUrl(orgA), { cookie: ownerA.cookie });
      await new Promise((r) => setTimeout(r, 100));
      // A real change through instance two: its agent reports a new dongle (dongle.discovered).
      const agent = await createAgent(second.db, ownerA.user.id, 'other-instance', orgA);
      const deviceId = randomDeviceId();
      await heartbeat(second, agent.authorization, [deviceId]);
      const frames = await client.waitFor((f) => f.some((x) => x.event === 'dongle.discovered' && x.data.includes(deviceId)));
      client.close();
      expect(frames.filter((f) => f.data.includes(deviceId))).toHaveLength(1);
    } finally {
      await second.stop();
    }
  });
});
