// The database goes away under a running app and comes back: requests fail fast with the §3
// 503 shape instead of hanging, /readyz says not ready, and the same app recovers by itself.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startEmbeddedPostgres, type EmbeddedDatabase } from '../../src/tooling/embedded.ts';
import { applyMigrations } from '../../src/tooling/migrator.ts';
import { createUser } from '../support/factories.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';

// A hang shows up as this per-request timeout rather than as the whole test timing out.
const REQUEST_TIMEOUT_MS = 20_000;

let dir: string;
let port: number;
let database: EmbeddedDatabase | undefined;
let app: TestApp;

const startDatabase = async () => {
  // Same directory and port each time, as a restarted server would have.
  database = await startEmbeddedPostgres({ dataDir: path.join(dir, 'data'), database: 'fleet', port, persistent: true });
  return database;
};

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'fleet-recovery-'));
  chmodSync(dir, 0o755); // the server runs as an unprivileged user when we are root
  port = await freePort();
  const db = await startDatabase();
  await applyMigrations(db.url);
  app = await startTestApp({ databaseUrl: db.url });
});

afterAll(async () => {
  await app?.stop();
  await database?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const loginAs = (email: string, password: string) => app.http.post('/api/auth/login').timeout(REQUEST_TIMEOUT_MS).send({ email, password });

describe('database outage and recovery', () => {
  it('answers 503 database_unavailable while the database is down, and 200 again once it is back', { timeout: 180_000 }, async () => {
    const user = await createUser(app.db);
    expect((await loginAs(user.email, user.password)).status).toBe(200);

    await database!.stop();
    database = undefined;

    const down = await loginAs(user.email, user.password);
    expect(down.status).toBe(503);
    expect(down.body.error).toMatchObject({ code: 'database_unavailable', requestId: expect.any(String) });
    expect(down.headers['retry-after']).toBe('5');
    expect(JSON.stringify(down.body)).not.toMatch(/ECONNREFUSED|at .*\.ts/);
    const notReady = await app.http.get('/readyz').timeout(REQUEST_TIMEOUT_MS);
    expect(notReady.status).toBe(503);
    expect(notReady.body.error.message).toMatch(/database unreachable/);

    await startDatabase();

    const ready = await app.http.get('/readyz').timeout(REQUEST_TIMEOUT_MS);
    expect(ready.status).toBe(200);
    expect((await loginAs(user.email, user.password)).status).toBe(200);
  });
});
