// The stream machinery on a real PostgreSQL and real sockets, independent of authentication
// (events.routes.test.ts covers who may open which stream): ordering, resume with no gap and no
// duplicate across a cut and across two instances (two hubs, two LISTEN connections), heartbeat,
// slow clients, pruned resume points.
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { eventIds, openSse } from '../../../test/support/sse-client.ts';
import { connectDatabase, type Database } from '../../platform/database.ts';
import { createLogger } from '../../platform/logger.ts';
import { CommandNotifier } from '../commands/command-notifier.ts';
import { EventHub } from './event-hub.ts';
import { serveEventStream, type StreamOptions } from './event-stream.ts';
import { recordEvent } from '../../platform/events/event-writer.ts';
import { createTestOrganization } from '../../../test/support/organizations.ts';

const logger = createLogger({ level: (process.env.TEST_LOG as 'warn') ?? 'silent' });

interface Instance {
  url: string;
  hub: EventHub;
  allowed: Set<string>;
  stop(): Promise<void>;
}

async function startInstance(db: Database, options: Partial<StreamOptions> = {}): Promise<Instance> {
  const listener = new CommandNotifier({ databaseUrl: db.url, logger });
  const hub = new EventHub({ db, listener, logger });
  listener.start();
  hub.start();
  const allowed = new Set<string>();
  const app = express();
  app.get('/stream/:orgId', (req, res) => {
    const header = req.get('last-event-id') ?? (req.query.lastEventId as string | undefined);
    const caller = { orgId: req.params.orgId, userId: 'u', stillAllowed: async () => !allowed.has(`deny:${req.params.orgId}`) };
    void serveEventStream({ db, hub, options: { heartbeatMs: 15_000, maxBufferedBytes: 1 << 20, recheckMs: 50, ...options } }, req, res, caller, header ? BigInt(header) : null);
  });
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const sockets = new Set<import('node:net').Socket>();
  server.on('connection', (s) => (sockets.add(s), s.on('close', () => sockets.delete(s))));
  // Wait until the hub listens, so "committed after open" really reaches it by NOTIFY.
  while (!listener.isListening) await new Promise((r) => setTimeout(r, 10));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hub,
    allowed,
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
      await hub.stop();
      await listener.stop();
    },
  };
}

async function emit(db: Database, orgId: string, n: number, data: Record<string, unknown> = {}): Promise<bigint[]> {
  const ids: bigint[] = [];
  for (let i = 0; i < n; i++) {
    ids.push(await db.prisma.$transaction((tx) => recordEvent(tx, { organizationId: orgId, type: 'dongle.renamed', subjectId: randomUUID(), data: { n: i, ...data } })));
  }
  return ids;
}

describe('event stream machinery', () => {
  let db: Database;
  let a: Instance;
  let b: Instance;
  beforeAll(async () => {
    db = connectDatabase({ url: inject('databaseUrl'), poolMax: 10, logger });
    a = await startInstance(db);
    b = await startInstance(db);
  });
  afterAll(async () => {
    await a.stop();
    await b.stop();
    await db.close();
  });

  it('streams events committed after it opened, in order, with id: the event id', async () => {
    const org = await createTestOrganization(db);
    const client = await openSse(`${a.url}/stream/${org}`);
    expect(client.status).toBe(200);
    await new Promise((r) => setTimeout(r, 100));
    const ids = await emit(db, org, 3);
    const frames = await client.waitFor((f) => f.length >= 3);
    expect(frames.map((f) => f.id)).toEqual(ids.map(String));
    expect(frames[0]!.event).toBe('dongle.renamed');
    expect(JSON.parse(frames[0]!.data)).toMatchObject({ id: ids[0]!.toString(), type: 'dongle.renamed', subject: { type: 'dongle' }, data: { n: 0 } });
    client.close();
  });

  it('never sends another organization its events', async () => {
    const [mine, theirs] = [await createTestOrganization(db), await createTestOrganization(db)];
    const client = await openSse(`${a.url}/stream/${mine}`);
    await new Promise((r) => setTimeout(r, 100));
    await emit(db, theirs, 3);
    const [last] = await emit(db, mine, 1);
    const frames = await client.waitFor((f) => f.length >= 1);
    await new Promise((r) => setTimeout(r, 200));
    expect(eventIds(frames)).toEqual([Number(last)]);
    client.close();
  });

  it('resumes after a cut at a random point, on the other instance, with every event exactly once', async () => {
    const org = await createTestOrganization(db);
    const [before] = await emit(db, org, 1);
    const total = 120;
    // Writers on several connections at once, so ids are handed out concurrently.
    const writing = Promise.all([0, 1, 2, 3].map(() => emit(db, org, total / 4)));
    const seen: number[] = [];
    let client = await openSse(`${a.url}/stream/${org}`, { 'last-event-id': String(before) });
    const cutAt = 10 + Math.floor(Math.random() * 60);
    await client.waitFor((f) => f.length >= cutAt);
    client.close();
    seen.push(...eventIds(client.frames));
    // Resume on instance B, from what the client last saw (as a browser does).
    client = await openSse(`${b.url}/stream/${org}?lastEventId=${client.lastEventId()}`);
    const written = (await writing).flat().map(Number).sort((x, y) => x - y);
    await client.waitFor((f) => seen.length + f.length >= total).catch((e) => {
      const got = new Set([...seen, ...eventIds(client.frames)]);
      console.log('before', before, 'firstframes', seen.slice(0, 3), 'first', seen.length, 'second', client.frames.length, 'missing', written.filter((id) => !got.has(id)), 'seen', seen.slice(-3), eventIds(client.frames).slice(0, 3));
      return db.pool.query('SELECT id, organization_id = $1 AS same, created_at, xmin FROM events WHERE id BETWEEN 8 AND 12 ORDER BY id', [org]).then((r) => {
        console.log(r.rows);
        throw e;
      });
    });
    await new Promise((r) => setTimeout(r, 200));
    seen.push(...eventIds(client.frames));
    client.close();
    expect(seen).toEqual(written);
  });

  it('sends a comment heartbeat on the configured interval', async () => {
    const fast = await startInstance(db, { heartbeatMs: 50 });
    try {
      const client = await openSse(`${fast.url}/stream/${await createTestOrganization(db)}`);
      await new Promise((r) => setTimeout(r, 400));
      expect(client.comments.filter((c) => c === 'heartbeat').length).toBeGreaterThanOrEqual(2);
      client.close();
    } finally {
      await fast.stop();
    }
  });

  it('closes a client that does not read with a resync event, instead of buffering', async () => {
    const tight = await startInstance(db, { maxBufferedBytes: 64 * 1024 });
    try {
      const org = await createTestOrganization(db);
      const client = await openSse(`${tight.url}/stream/${org}`);
      await new Promise((r) => setTimeout(r, 100));
      client.pause();
      // 200 × 64 kB in one transaction: more than loopback socket buffers (a few MB) absorb,
      // far more than the 64 kB allowance.
      const padding = 'x'.repeat(64 * 1024);
      await db.prisma.$transaction(async (tx) => {
        for (let n = 0; n < 200; n++) await recordEvent(tx, { organizationId: org, type: 'dongle.renamed', subjectId: randomUUID(), data: { n, padding } });
      });
      await new Promise((r) => setTimeout(r, 300));
      client.resume();
      await client.ended;
      const last = client.frames[client.frames.length - 1]!;
      expect(last.event).toBe('resync');
      expect(JSON.parse(last.data)).toMatchObject({ reason: 'slow_client' });
      expect(client.frames.length).toBeLessThan(200);
    } finally {
      await tight.stop();
    }
  });

  it('answers a resume from a pruned id with resync carrying the newest id', async () => {
    const org = await createTestOrganization(db);
    const ids = await emit(db, org, 2);
    // Retention deleted up to ids[0]: resuming from before it cannot be complete.
    await db.pool.query(
      `INSERT INTO event_retention_mark (id, pruned_through) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET pruned_through = GREATEST(event_retention_mark.pruned_through, $1)`,
      [ids[0]!.toString()],
    );
    const client = await openSse(`${a.url}/stream/${org}`, { 'last-event-id': String(ids[0]! - 1n) });
    await client.ended;
    expect(client.frames).toHaveLength(1);
    expect(client.frames[0]).toMatchObject({ event: 'resync', id: ids[1]!.toString() });
    // Resuming from a kept id works.
    const ok = await openSse(`${a.url}/stream/${org}`, { 'last-event-id': String(ids[0]) });
    await ok.waitFor((f) => f.length >= 1);
    expect(eventIds(ok.frames)).toEqual([Number(ids[1])]);
    ok.close();
  });

  it('closes the stream when the caller loses access', async () => {
    const org = await createTestOrganization(db);
    const client = await openSse(`${a.url}/stream/${org}`);
    a.allowed.add(`deny:${org}`);
    await client.ended;
    expect(client.isEnded()).toBe(true);
  });

  it('uses one query per wake-up for many streams of one organization', async () => {
    const org = await createTestOrganization(db);
    const clients = await Promise.all(Array.from({ length: 50 }, () => openSse(`${b.url}/stream/${org}`)));
    await new Promise((r) => setTimeout(r, 200));
    const [id] = await emit(db, org, 1);
    for (const client of clients) expect(eventIds(await client.waitFor((f) => f.length >= 1))).toEqual([Number(id)]);
    for (const client of clients) client.close();
  });
});
