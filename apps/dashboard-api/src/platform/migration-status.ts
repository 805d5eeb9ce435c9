// Which migrations of prisma/migrations the database has applied, failed or never seen: read by
// the readiness check (the app's pool) and by the migrator and CLI (tooling/). Reads only.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type pg from 'pg';
import { migrationsDir as defaultMigrationsDir } from './paths.ts';

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

