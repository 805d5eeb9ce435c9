// The PostgreSQL rate limiter through a real HTTP server: 429 with Retry-After past the limit,
// exact counting under concurrency, a fresh window after expiry, and pruning.
import express from 'express';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { connectDatabase, type Database } from './database.ts';
import { errorHandler } from './http/error-handler.ts';
import { createLogger } from './logger.ts';
import { createRateLimit, pruneRateLimitCounters, rateLimit, rateLimitKey } from './rate-limit.ts';

let db: Database;
const logger = createLogger({ level: 'silent' });
beforeAll(() => {
  db = connectDatabase({ url: inject('databaseUrl'), poolMax: 5, logger });
});
afterAll(() => db.close());

const uniqueName = (label: string) => `test-${label}-${randomBytes(4).toString('hex')}`;

async function serve(name: string, limit: number, windowSeconds: number) {
  const app = express();
  app.use((_req, res, next) => {
    res.locals.requestId = 'test';
    next();
  });
  app.get('/limited', rateLimit(db, { name, limit, windowSeconds, key: (req) => req.get('x-client') ?? 'anon' }), (_req, res) => {
    res.json({ ok: true });
  });
  app.use(errorHandler(logger));
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { http: supertest(url), close: () => new Promise((resolve) => server.close(resolve)) };
}

describe('rateLimit middleware', () => {
  it('answers 429 rate_limited with Retry-After once the limit is used up', async () => {
    const { http, close } = await serve(uniqueName('mw'), 3, 600);
    try {
      for (let i = 0; i < 3; i++) expect((await http.get('/limited').set('x-client', 'a')).status).toBe(200);
      const refused = await http.get('/limited').set('x-client', 'a');
      expect(refused.status).toBe(429);
      expect(refused.body.error.code).toBe('rate_limited');
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
      expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(600);
      // Another key has its own counter.
      expect((await http.get('/limited').set('x-client', 'b')).status).toBe(200);
    } finally {
      await close();
    }
  });

  it('lets exactly `limit` of many concurrent hits through', async () => {
    const { http, close } = await serve(uniqueName('concurrent'), 5, 600);
    try {
      const statuses = await Promise.all(Array.from({ length: 20 }, () => http.get('/limited').set('x-client', 'c').then((r) => r.status)));
      expect(statuses.filter((s) => s === 200)).toHaveLength(5);
      expect(statuses.filter((s) => s === 429)).toHaveLength(15);
    } finally {
      await close();
    }
  });
});

describe('createRateLimit', () => {
  it('starts a new window once the old one is over', async () => {
    const limit = createRateLimit(db, { name: uniqueName('window'), limit: 1, windowSeconds: 1 });
    expect((await limit.hit('k')).allowed).toBe(true);
    expect((await limit.hit('k')).allowed).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const fresh = await limit.hit('k');
    expect(fresh).toMatchObject({ allowed: true, hits: 1 });
  });

  it('peeks without counting, resets, and stores no raw discriminator', async () => {
    const name = uniqueName('peek');
    const limit = createRateLimit(db, { name, limit: 2, windowSeconds: 600 });
    await limit.hit('someone@example.test');
    expect(await limit.peek('someone@example.test')).toMatchObject({ allowed: true, hits: 1 });
    await limit.hit('someone@example.test');
    expect((await limit.peek('someone@example.test')).allowed).toBe(false);
    const { rows } = await db.pool.query('SELECT key FROM rate_limit_counters WHERE key LIKE $1', [`${name}:%`]);
    expect(rows).toEqual([{ key: rateLimitKey(name, 'someone@example.test') }]);
    expect(rows[0].key).not.toContain('someone');
    await limit.reset('someone@example.test');
    expect(await limit.peek('someone@example.test')).toMatchObject({ allowed: true, hits: 0 });
  });

  it('treats a limit of 0 as no limit and writes nothing', async () => {
    const name = uniqueName('off');
    const limit = createRateLimit(db, { name, limit: 0, windowSeconds: 60 });
    for (let i = 0; i < 3; i++) expect((await limit.hit('x')).allowed).toBe(true);
    const { rowCount } = await db.pool.query('SELECT 1 FROM rate_limit_counters WHERE key LIKE $1', [`${name}:%`]);
    expect(rowCount).toBe(0);
  });
});

describe('pruneRateLimitCounters', () => {
  it('deletes counters whose window ended over a minute ago and keeps live ones', async () => {
    const name = uniqueName('prune');
    await db.pool.query(
      `INSERT INTO rate_limit_counters (key, hits, window_start, expires_at) VALUES
         ($1, 3, now() - interval '2 hours', now() - interval '1 hour'),
         ($2, 1, now(), now() + interval '1 hour')`,
      [`${name}:old`, `${name}:live`],
    );
    expect(await pruneRateLimitCounters(db)).toBeGreaterThanOrEqual(1);
    const { rows } = await db.pool.query('SELECT key FROM rate_limit_counters WHERE key LIKE $1 ORDER BY key', [`${name}:%`]);
    expect(rows).toEqual([{ key: `${name}:live` }]);
  });
});
