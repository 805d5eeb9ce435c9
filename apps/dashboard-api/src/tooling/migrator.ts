// Applies prisma/migrations with Prisma's own (WebAssembly) schema engine, so the database
// records them in `_prisma_migrations` exactly as `prisma migrate deploy` would, on machines
// that cannot download the native engine. See doc/migrations.md for the runbook.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import type { MigrationList } from '@prisma/schema-engine-wasm';
import { migrationStatusOn, readLocalMigrations, type MigrationStatus } from '../platform/migration-status.ts';
import { migrationsDir as defaultMigrationsDir } from '../platform/paths.ts';

import { openSchemaEngine } from './schema-engine.ts';

/** Advisory lock key held while migrating, so concurrent migrators apply each migration once. */
export const MIGRATION_LOCK_KEY = 7_042_026_1;

const noFilter = { externalTables: [], externalEnums: [] };

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
