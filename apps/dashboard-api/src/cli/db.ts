// npm run db:migrate | db:status | db:diff (see doc/migrations.md).
//   db:migrate                         apply pending migrations
//   db:migrate -- --rolled-back NAME   mark a failed migration rolled back (after repairing)
//   db:migrate -- --applied NAME       mark a migration applied (its changes were made by hand)
//   db:status                          applied / pending / failed / edited; exit 1 unless clean
//   db:diff -- --name NAME [--from FILE]   write the next migration from the schema change
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config.ts';
import { applyMigrations, markApplied, markRolledBack, migrationStatus } from '../db/migrator.ts';
import { migrationsDir, repoRoot, schemaPath } from '../db/paths.ts';
import { provisionDatabase } from '../db/provision.ts';
import { diffSchemas } from '../db/schema-diff.ts';
import { createLogger } from '../platform/logger.ts';

const [command, ...rest] = process.argv.slice(2);
const { values } = parseArgs({
  args: rest,
  options: { 'rolled-back': { type: 'string' }, applied: { type: 'string' }, name: { type: 'string' }, from: { type: 'string' } },
});

async function withDatabase<T>(work: (url: string) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const database = await provisionDatabase(config, createLogger({ level: 'warn' }));
  try {
    return await work(database.url);
  } finally {
    await database.stop();
  }
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

async function run(): Promise<number> {
  switch (command) {
    case 'migrate':
      return withDatabase(async (url) => {
        if (values['rolled-back']) {
          await markRolledBack(url, values['rolled-back']);
          console.log(`marked ${values['rolled-back']} rolled back`);
          return 0;
        }
        if (values.applied) {
          await markApplied(url, values.applied);
          console.log(`marked ${values.applied} applied`);
          return 0;
        }
        const applied = await applyMigrations(url, { log: (line) => console.log(line) });
        console.log(applied.length ? `${applied.length} migration(s) applied.` : 'Database is up to date.');
        return 0;
      });
    case 'status':
      return withDatabase(async (url) => {
        const status = await migrationStatus(url);
        for (const [label, names] of Object.entries(status)) console.log(`${label.padEnd(8)} ${names.length ? names.join(', ') : '-'}`);
        return status.pending.length || status.failed.length || status.edited.length || status.unknown.length ? 1 : 0;
      });
    case 'diff':
      return diff();
    default:
      console.error('usage: db.ts migrate|status|diff');
      return 2;
  }
}

run().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  },
);
