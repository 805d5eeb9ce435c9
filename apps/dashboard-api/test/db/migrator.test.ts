// The project's migrator (Prisma's WebAssembly schema engine, see src/tooling/migrator.ts) on fresh
// scratch databases: concurrency, status, failure and recovery, and /readyz.
import { cpSync, mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { applyMigrations, markRolledBack, MigrationError, migrationStatus } from '../../src/tooling/migrator.ts';
import { readLocalMigrations } from '../../src/platform/migration-status.ts';
import { migrationsDir } from '../../src/platform/paths.ts';
import { createScratchDatabase, type ScratchDatabase } from '../support/scratch-database.ts';
import { startTestApp } from '../support/test-app.ts';

const realMigrations = readLocalMigrations().map((m) => m.name);

// Everything a test creates is released after it, even when it fails.
const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function scratchDatabase(prefix: string): Promise<ScratchDatabase> {
  const scratch = await createScratchDatabase(prefix);
  cleanups.push(() => scratch.drop());
  return scratch;
}

/** A temporary copy of prisma/migrations that a test may edit. */
function copyOfMigrations(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fleet-migrations-'));
  cpSync(migrationsDir, dir, { recursive: true });
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function writeMigration(dir: string, name: string, sql: string): void {
  mkdirSync(path.join(dir, name), { recursive: true });
  writeFileSync(path.join(dir, name, 'migration.sql'), sql);
}

interface BookkeepingRow {
  migration_name: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
  applied_steps_count: number;
}

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

const bookkeeping = (url: string) =>
  query<BookkeepingRow>(url, 'SELECT migration_name, finished_at, rolled_back_at, applied_steps_count FROM _prisma_migrations ORDER BY started_at');

describe('applyMigrations', () => {
  it('applies each migration exactly once when two migrators start at once', async () => {
    const scratch = await scratchDatabase('mig_concurrent');
    const [first, second] = await Promise.all([applyMigrations(scratch.url), applyMigrations(scratch.url)]);
    // One of them did all the work; the other waited for the lock and found nothing pending.
    expect([...first, ...second].sort()).toEqual(realMigrations);
    const rows = await bookkeeping(scratch.url);
    expect(rows.map((r) => r.migration_name).sort()).toEqual(realMigrations);
    for (const row of rows) {
      expect(row.finished_at, row.migration_name).not.toBeNull();
      expect(row.rolled_back_at, row.migration_name).toBeNull();
    }
  });

  it('stops at a failing migration, records it failed, leaves nothing of it, and recovers after rolled-back + fix', async () => {
    const scratch = await scratchDatabase('mig_failing');
    const dir = copyOfMigrations();
    const broken = '99991231000000_broken_probe';
    // The first statement would succeed alone; the script runs as one implicit transaction.
    writeMigration(dir, broken, 'CREATE TABLE "broken_probe" (id integer);\nSELECT * FROM "no_such_table";\n');

    const failure = await applyMigrations(scratch.url, { migrationsDir: dir }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(MigrationError);
    expect((failure as Error).message).toMatch(new RegExp(`^Migration ${broken} failed: .*no_such_table`));
    expect((failure as Error).message).toContain(`--rolled-back ${broken}`);

    const rows = await bookkeeping(scratch.url);
    expect(rows.filter((r) => r.finished_at !== null).map((r) => r.migration_name)).toEqual(realMigrations);
    const failedRow = rows.find((r) => r.migration_name === broken);
    expect(failedRow).toMatchObject({ finished_at: null, rolled_back_at: null });
    expect((await migrationStatus(scratch.url, dir)).failed).toEqual([broken]);
    const [probe] = await query<{ table: string | null }>(scratch.url, `SELECT to_regclass('public.broken_probe')::text AS table`);
    expect(probe!.table, 'half of the failed migration was applied').toBeNull();

    const refusal = await applyMigrations(scratch.url, { migrationsDir: dir }).catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(MigrationError);
    expect((refusal as Error).message).toMatch(new RegExp(`${broken} failed earlier`));

    await markRolledBack(scratch.url, broken);
    writeMigration(dir, broken, 'CREATE TABLE "broken_probe" (id integer);\n');
    expect(await applyMigrations(scratch.url, { migrationsDir: dir })).toEqual([broken]);
    const status = await migrationStatus(scratch.url, dir);
    expect(status).toMatchObject({ failed: [], pending: [], edited: [], applied: [...realMigrations, broken] });
  });
});

describe('migrationStatus', () => {
  it('reports pending, then applied, then edited', async () => {
    const scratch = await scratchDatabase('mig_status');
    const dir = copyOfMigrations();
    expect(await migrationStatus(scratch.url, dir)).toEqual({ applied: [], pending: realMigrations, failed: [], edited: [], unknown: [] });

    await applyMigrations(scratch.url, { migrationsDir: dir });
    expect(await migrationStatus(scratch.url, dir)).toEqual({ applied: realMigrations, pending: [], failed: [], edited: [], unknown: [] });

    const edited = realMigrations[0]!;
    writeMigration(dir, edited, `${readLocalMigrations(dir)[0]!.sql}\n-- edited after it was applied\n`);
    const added = '99991231000001_later_change';
    writeMigration(dir, added, 'SELECT 1;\n');
    expect(await migrationStatus(scratch.url, dir)).toEqual({ applied: realMigrations, pending: [added], failed: [], edited: [edited], unknown: [] });
  });
});

describe('/readyz and migrations', () => {
  it('is 503 while a migration is pending and 200 once it is applied', async () => {
    const scratch = await scratchDatabase('mig_readyz');
    const dir = copyOfMigrations();
    await applyMigrations(scratch.url, { migrationsDir: dir });
    writeMigration(dir, '99991231000002_readyz_probe', 'CREATE TABLE "readyz_probe" (id integer);\n');

    const app = await startTestApp({ databaseUrl: scratch.url, deps: { migrationsDir: dir } });
    cleanups.push(() => app.stop());
    const before = await app.http.get('/readyz');
    expect(before.status).toBe(503);
    expect(before.body.error).toMatchObject({ code: 'not_ready', message: expect.stringMatching(/1 migration\(s\) pending/) });

    await applyMigrations(scratch.url, { migrationsDir: dir });
    const after = await app.http.get('/readyz');
    expect(after.status).toBe(200);
  });

  it('is 503 naming a failed migration (not calling it pending)', async () => {
    const scratch = await scratchDatabase('mig_readyz_failed');
    const dir = copyOfMigrations();
    const broken = '99991231000003_readyz_broken';
    writeMigration(dir, broken, 'SELECT * FROM "no_such_table";\n');
    await applyMigrations(scratch.url, { migrationsDir: dir }).catch(() => undefined);

    const app = await startTestApp({ databaseUrl: scratch.url, deps: { migrationsDir: dir } });
    cleanups.push(() => app.stop());
    const res = await app.http.get('/readyz');
    expect(res.status).toBe(503);
    expect(res.body.error).toMatchObject({ code: 'not_ready', message: `Not ready: migration ${broken} failed.` });
    expect(res.body.error.requestId).toBe(res.headers['x-request-id']);
  });
});
