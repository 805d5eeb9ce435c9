// npm run db:migrate | db:status | db:seed | db:diff (see doc/migrations.md). From the repo root:
//   npm run db:migrate                         apply pending migrations
//   npm run db:migrate -- --rolled-back NAME   mark a failed migration rolled back (after repairing)
//   npm run db:migrate -- --applied NAME       mark a migration applied (its changes were made by hand)
//   npm run db:status                          applied / pending / failed / edited; exit 1 unless clean
//   npm run db:seed                            a development demo fleet (refused in production)
//   npm run db:diff -- --name NAME [--from FILE]   write the next migration from the schema change
// The database is DATABASE_URL, or the embedded PostgreSQL under DATA_DIR when it is unset (stop
// `npm start` first: one embedded server per data directory).
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../config.ts';
import { applyMigrations, markApplied, markRolledBack, migrationStatus } from '../tooling/migrator.ts';
import type { MigrationStatus } from '../platform/migration-status.ts';
import { migrationsDir, repoRoot, schemaPath } from '../platform/paths.ts';
import { provisionDatabase } from '../tooling/provision.ts';
import { diffSchemas } from '../tooling/schema-diff.ts';
import { seedDemoFleet } from '../tooling/seed.ts';
import { PasswordHasher } from '../features/auth/password-hashing.ts';
import { connectDatabase } from '../platform/database.ts';
import { createLogger } from '../platform/logger.ts';
import { consoleIo, parseCliArgs, runAsMain } from './cli-support.ts';

const USAGE = 'usage: db.ts migrate [--rolled-back NAME | --applied NAME] | status | seed | diff --name NAME [--from FILE]';

const OPTIONS = { 'rolled-back': { type: 'string' }, applied: { type: 'string' }, name: { type: 'string' }, from: { type: 'string' } } as const;
type Values = { 'rolled-back'?: string; applied?: string; name?: string; from?: string };
// Set by run() before any command handler reads it.
let values: Values = {};

const quietLogger = createLogger({ level: 'warn' });

async function withDatabase<T>(work: (url: string) => Promise<T>): Promise<T> {
  const database = await provisionDatabase(loadConfig(), quietLogger);
  try {
    return await work(database.url);
  } finally {
    await database.stop();
  }
}

async function migrate(): Promise<number> {
  return withDatabase(async (url) => {
    if (values['rolled-back']) {
      await markRolledBack(url, values['rolled-back']);
      console.log(`marked ${values['rolled-back']} rolled back; fix its migration.sql, then run npm run db:migrate`);
      return 0;
    }
    if (values.applied) {
      await markApplied(url, values.applied);
      console.log(`marked ${values.applied} applied (not run)`);
      return 0;
    }
    const applied = await applyMigrations(url, { log: (line) => console.log(line) });
    console.log(applied.length ? `${applied.length} migration(s) applied.` : 'Database is up to date.');
    return 0;
  });
}

function printStatus(status: MigrationStatus): void {
  for (const [label, names] of Object.entries(status)) console.log(`${label.padEnd(8)} ${names.length ? names.join(', ') : '-'}`);
  if (status.pending.length) console.log('\npending: run npm run db:migrate');
  if (status.failed.length) console.log('\nfailed: see doc/migrations.md, "A failed migration", before anything else');
  if (status.edited.length) console.log('\nedited: an applied migration.sql changed since; restore it from git (migrations are never edited after release)');
  if (status.unknown.length) console.log('\nunknown: applied here but missing from prisma/migrations (an older checkout, or a migration from another branch)');
}

async function status(): Promise<number> {
  return withDatabase(async (url) => {
    const result = await migrationStatus(url);
    printStatus(result);
    const clean = !result.pending.length && !result.failed.length && !result.edited.length && !result.unknown.length;
    return clean ? 0 : 1;
  });
}

async function seed(): Promise<number> {
  const config = loadConfig();
  if (config.isProduction) {
    console.error('db:seed refuses to run with NODE_ENV=production: the demo account has a published password.');
    return 1;
  }
  return withDatabase(async (url) => {
    const pending = await migrationStatus(url);
    if (pending.pending.length || pending.failed.length) {
      console.error('The database is not fully migrated: run npm run db:migrate first.');
      return 1;
    }
    const db = connectDatabase({ url, poolMax: 2, logger: quietLogger });
    try {
      const summary = await seedDemoFleet(db, new PasswordHasher(), { nodeEnv: config.env });
      console.log(summary.created.length ? `created: ${summary.created.join(', ')}` : 'demo fleet already present: nothing created');
      console.log(`demo operator: ${summary.operator.email} / ${summary.operator.password}`);
      for (const agent of summary.agentTokens) console.log(`agent ${agent.name}: Authorization: Bearer ${agent.token}`);
      return 0;
    } finally {
      await db.close();
    }
  });
}

function timestamp(date = new Date()): string {
  return date.toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

async function diff(): Promise<number> {
  const name = values.name;
  if (!name || !/^[a-z0-9_]+$/.test(name)) {
    console.error('usage: npm run db:diff -- --name snake_case_name [--from path/to/previous/schema.prisma]');
    return 2;
  }
  // By default the previous schema is the committed one: the change is what you edited since.
  const previous = values.from
    ? readFileSync(values.from, 'utf8')
    : execFileSync('git', ['show', `HEAD:${path.relative(repoRoot, schemaPath)}`], { cwd: repoRoot, encoding: 'utf8' });
  const sql = await withDatabase((url) => diffSchemas({ path: schemaPath, content: previous }, { path: schemaPath, content: readFileSync(schemaPath, 'utf8') }, url));
  if (!sql.trim() || /^-- This is an empty migration/.test(sql.trim())) {
    console.log('schema.prisma has no changes against the previous schema: no migration written.');
    return 0;
  }
  const dir = path.join(migrationsDir, `${timestamp()}_${name}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'migration.sql'), sql);
  console.log(`wrote ${path.relative(repoRoot, dir)}/migration.sql — review it, add any raw-SQL block, commit it with schema.prisma.`);
  return 0;
}

const commands: Record<string, () => Promise<number>> = { migrate, status, seed, diff };

async function run([command, ...rest]: string[]): Promise<number> {
  const handler = command ? commands[command] : undefined;
  if (!handler) {
    console.error(USAGE);
    return 2;
  }
  const parsed = parseCliArgs(rest, OPTIONS, USAGE, consoleIo);
  if ('exitCode' in parsed) return parsed.exitCode;
  values = parsed.values;
  return handler();
}

runAsMain(import.meta.url, run);
