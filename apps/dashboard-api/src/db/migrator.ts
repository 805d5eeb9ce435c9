// Applies prisma/migrations with Prisma's own (WebAssembly) schema engine, so the database
// records them in `_prisma_migrations` exactly as `prisma migrate deploy` would, on machines
// that cannot download the native engine. See doc/migrations.md for the runbook.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import type { MigrationList } from '@prisma/schema-engine-wasm';
import { migrationsDir as defaultMigrationsDir } from './paths.ts';
import { openSchemaEngine } from './schema-engine.ts';

/** Advisory lock key held while migrating, so concurrent migrators apply each migration once. */
export const MIGRATION_LOCK_KEY = 7_042_026_1;

const noFilter = { externalTables: [], externalEnums: [] };

export interface LocalMigration {
  name: string;
  sql: string;
  /** sha256 of migration.sql, the checksum Prisma stores. */
  checksum: string;
}

export function readLocalMigrations(dir = defaultMigrationsDir): LocalMigration[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(path.join(dir, entry.name, 'migration.sql')))
    .map((entry) => entry.name)
    .sort()
    .map((name) => {
      const sql = readFileSync(path.join(dir, name, 'migration.sql'), 'utf8');
      return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    });
}

export function migrationList(dir = defaultMigrationsDir): MigrationList {
  const lockPath = path.join(dir, 'migration_lock.toml');
  return {
    baseDir: dir,
    lockfile: { path: 'migration_lock.toml', content: existsSync(lockPath) ? readFileSync(lockPath, 'utf8') : null },
    shadowDbInitScript: '',
    migrationDirectories: readLocalMigrations(dir).map((m) => ({
      path: m.name,
      migrationFile: { path: 'migration.sql', content: { tag: 'ok', value: m.sql } },
    })),
  };
}

export class MigrationError extends Error {
  override name = 'MigrationError';
}

/** Errors from the engine arrive as JSON strings or objects; turn them into one readable line. */
function engineMessage(error: unknown): string {
  const raw = error instanceof Error ? error.message : String(error);
  try {
    const parsed = JSON.parse(raw) as { message?: string; error?: string };
    return parsed.message ?? parsed.error ?? raw;
  } catch {
    return raw;
  }
}

async function withMigrationLock<T>(databaseUrl: string, work: () => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    return await work();
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    await client.end();
  }
}

export interface MigrateOptions {
  migrationsDir?: string;
  log?: (line: string) => void;
}

/**
 * Applies every pending migration, in name order, each recorded in `_prisma_migrations`.
 * Returns the names just applied. A failing migration is recorded as failed by the engine and
 * stops the run with a MigrationError naming it (see the runbook for recovery).
 */
export async function applyMigrations(databaseUrl: string, options: MigrateOptions = {}): Promise<string[]> {
  return withMigrationLock(databaseUrl, async () => {
    const engine = await openSchemaEngine({ databaseUrl });
    try {
      const list = migrationList(options.migrationsDir);
      const diagnosis = await engine.diagnoseMigrationHistory({ migrationsList: list, optInToShadowDatabase: false, filters: noFilter });
      if (diagnosis.failedMigrationNames.length > 0) {
        const failed = diagnosis.failedMigrationNames.join(', ');
        const first = diagnosis.failedMigrationNames[0]!;
        throw new MigrationError(
          `Migration ${failed} failed earlier and is recorded as failed. Nothing was applied. ` +
            'Recover as doc/migrations.md ("A failed migration") describes, then mark it rolled back ' +
            `(npm run db:migrate -- --rolled-back ${first}) or applied (npm run db:migrate -- --applied ${first}).`,
        );
      }
      const { appliedMigrationNames } = await engine.applyMigrations({ migrationsList: list, filters: noFilter });
      for (const name of appliedMigrationNames) options.log?.(`applied ${name}`);
      return appliedMigrationNames;
    } catch (error) {
      if (error instanceof MigrationError) throw error;
      throw applyFailure(engineMessage(error));
    } finally {
      await engine.close();
    }
  });
}

/**
 * The engine reports a failing script as "external connector error", the database's reason, then
 * a span trace naming the migration (`migration_name="…"`). Keep the reason and the name, and say
 * what state the database is in and what to do next.
 */
function applyFailure(message: string): MigrationError {
  const name = /migration_name="([^"]+)"/.exec(message)?.[1];
  const reason = message
    .split('\n')
    .filter((line) => !/^\s+(\d+:|with |at )/.test(line) && line.trim() && line.trim() !== 'external connector error')
    .join(' ')
    .trim();
  if (!name) return new MigrationError(`Migration failed: ${reason}`);
  return new MigrationError(
    `Migration ${name} failed: ${reason}. It is recorded as failed in _prisma_migrations; its script ran as one ` +
      'transaction, so none of it is applied (unless the script has its own BEGIN/COMMIT). Migrations before it stay applied. ' +
      `Fix its migration.sql (or the data it tripped on), then: npm run db:migrate -- --rolled-back ${name} && npm run db:migrate ` +
      '(doc/migrations.md, "A failed migration").',
  );
}

export interface MigrationStatus {
  applied: string[];
  pending: string[];
  failed: string[];
  /** Applied migrations whose migration.sql changed since. */
  edited: string[];
  /** Applied in the database but missing from prisma/migrations. */
  unknown: string[];
}

interface MigrationRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
}

/** What `prisma migrate status` shows, computed from `_prisma_migrations` and the folder. */
export async function migrationStatus(databaseUrl: string, dir = defaultMigrationsDir): Promise<MigrationStatus> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return await migrationStatusOn(client, readLocalMigrations(dir));
  } finally {
    await client.end();
  }
}

/** The same, over a connection or pool the caller already has (readiness uses the app's pool). */
export async function migrationStatusOn(db: Pick<pg.Pool, 'query'>, local: LocalMigration[]): Promise<MigrationStatus> {
  const exists = await db.query<{ present: boolean }>("SELECT to_regclass('public._prisma_migrations') IS NOT NULL AS present");
  const rows = exists.rows[0]?.present
    ? (await db.query<MigrationRow>('SELECT migration_name, checksum, finished_at, rolled_back_at FROM _prisma_migrations ORDER BY started_at')).rows
    : [];
  return summarize(local, rows);
}

function summarize(local: LocalMigration[], rows: MigrationRow[]): MigrationStatus {
  const live = rows.filter((r) => r.rolled_back_at === null);
  const appliedRows = new Map(live.filter((r) => r.finished_at !== null).map((r) => [r.migration_name, r]));
  const failed = live.filter((r) => r.finished_at === null).map((r) => r.migration_name);
  const localNames = new Set(local.map((m) => m.name));
  return {
    applied: local.filter((m) => appliedRows.has(m.name)).map((m) => m.name),
    pending: local.filter((m) => !appliedRows.has(m.name) && !failed.includes(m.name)).map((m) => m.name),
    failed,
    edited: local.filter((m) => appliedRows.has(m.name) && appliedRows.get(m.name)!.checksum !== m.checksum).map((m) => m.name),
    unknown: [...appliedRows.keys()].filter((name) => !localNames.has(name)),
  };
}

/** Marks a failed migration rolled back (after the database was restored or repaired by hand). */
export async function markRolledBack(databaseUrl: string, migrationName: string): Promise<void> {
  const engine = await openSchemaEngine({ databaseUrl });
  try {
    await engine.markMigrationRolledBack({ migrationName });
  } catch (error) {
    throw new MigrationError(engineMessage(error));
  } finally {
    await engine.close();
  }
}

/** Records a migration as applied without running it (its changes were made by hand). */
export async function markApplied(databaseUrl: string, migrationName: string, dir = defaultMigrationsDir): Promise<void> {
  const engine = await openSchemaEngine({ databaseUrl });
  try {
    await engine.markMigrationApplied({ migrationName, migrationsList: migrationList(dir) });
  } catch (error) {
    throw new MigrationError(engineMessage(error));
  } finally {
    await engine.close();
  }
}
