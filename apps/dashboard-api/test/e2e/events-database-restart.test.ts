// Event streams across a PostgreSQL restart: a stream left open keeps going once the database is
// back (the hub's LISTEN connection reconnects and catches up), and a client that dropped during
// the outage resumes with Last-Event-ID; each receives every event exactly once.
import { randomBytes, randomUUID } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startEmbeddedPostgres, type EmbeddedDatabase } from '../../src/tooling/embedded.ts';
import { applyMigrations } from '../../src/tooling/migrator.ts';
import { inPgTransaction } from '../../src/platform/database.ts';
import { recordEvent } from '../../src/platform/events/event-writer.ts';
import { sha256Hex } from '../../src/platform/secrets.ts';
import { eventIds, openSse } from '../support/sse-client.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';

let dir: string;
let port: number;
let database: EmbeddedDatabase | undefined;
let app: TestApp;
let url: string;

const startDatabase = async () => {
  database = await startEmbeddedPostgres({ dataDir: path.join(dir, 'data'), database: 'fleet', port, persistent: true });
  return database;
};

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'fleet-events-restart-'));
  chmodSync(dir, 0o755);
  port = await freePort();
  const db = await startDatabase();
  url = db.url;
  await applyMigrations(url);
  app = await startTestApp({ databaseUrl: url });
});

afterAll(async () => {
  await app?.stop();
  await database?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function emit(orgId: string, n: number): Promise<number[]> {
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  pool.on('error', () => undefined);
  try {
    const ids: number[] = [];
    for (let i = 0; i < n; i++) ids.push(Number(await inPgTransaction(pool, (c) => recordEvent(c, { organizationId: orgId, type: 'dongle.online', subjectId: randomUUID() }))));
    return ids;
  } finally {
    await pool.end();
  }
}

describe('event streams across a PostgreSQL restart', () => {
  it('delivers every event exactly once to a stream that stayed open and to one resumed after the restart', { timeout: 180_000 }, async () => {
    const setup = new pg.Client({ connectionString: url });
    await setup.connect();
    const { rows: [user] } = await setup.query(`INSERT INTO users (email, password_hash, email_verified_at) VALUES ($1, 'x', now()) RETURNING id::text`, [`restart-${randomUUID()}@example.test`]);
    const { rows: [org] } = await setup.query(`SELECT id::text FROM organizations WHERE personal_owner_user_id = $1::uuid`, [user.id]);
    const key = `fk_${randomBytes(32).toString('base64url')}`;
    await setup.query(
      `INSERT INTO api_keys (organization_id, user_id, name, scope, prefix, key_hash, expires_at) VALUES ($1::uuid, $2::uuid, 't', 'read', 'fk_x', $3, now() + interval '1 day')`,
      [org.id, user.id, sha256Hex(key)],
    );
    await setup.end();
    const headers = { authorization: `Bearer ${key}` };
    const stream = `${app.url}/api/orgs/${org.id}/events/stream`;

    const [start] = await emit(org.id, 1);
    const staying = await openSse(stream, { ...headers, 'last-event-id': String(start) });
    const dropping = await openSse(stream, { ...headers, 'last-event-id': String(start) });
    const before = await emit(org.id, 5);
    await staying.waitFor((f) => f.length >= 5);
    await dropping.waitFor((f) => f.length >= 5);

    await database!.stop();
    database = undefined;
    dropping.close(); // the network drops while the database is down
    await new Promise((r) => setTimeout(r, 1_000));
    await startDatabase();

    const after = await emit(org.id, 5);
    const resumed = await openSse(stream, { ...headers, 'last-event-id': dropping.lastEventId()! });
    expect(resumed.status).toBe(200);
    await resumed.waitFor((f) => f.length >= 5, 60_000);
    await staying.waitFor((f) => f.length >= 10, 60_000);
    await new Promise((r) => setTimeout(r, 300));
    expect(eventIds(staying.frames)).toEqual([...before, ...after]);
    expect([...eventIds(dropping.frames), ...eventIds(resumed.frames)]).toEqual([...before, ...after]);
    staying.close();
    resumed.close();
  });
});
