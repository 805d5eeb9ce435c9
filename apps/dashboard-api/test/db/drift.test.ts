// No drift: the schema the migrations build (database A) must equal the schema schema.prisma
// describes plus the documented raw-SQL blocks (database B), compared through the catalogs.
// Editing schema.prisma without a migration, or a migration without schema.prisma, fails here.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyMigrations } from '../../src/tooling/migrator.ts';
import { readLocalMigrations } from '../../src/platform/migration-status.ts';
import { repoRoot, schemaPath } from '../../src/platform/paths.ts';
import { extractRawSqlBlocks } from '../../src/tooling/raw-sql.ts';
import { diffSchemas } from '../../src/tooling/schema-diff.ts';
import { createScratchDatabase, type ScratchDatabase } from '../support/scratch-database.ts';
import { compareSnapshots, snapshotSchema } from './schema-snapshot.ts';

const databaseDoc = path.join(repoRoot, 'doc/database.md');
const rawBlocks = extractRawSqlBlocks(readLocalMigrations());

/** The block names listed under "## Raw-SQL blocks" in doc/database.md (`- \`name\` …` items). */
function documentedBlockNames(): string[] {
  const doc = readFileSync(databaseDoc, 'utf8');
  const section = /^## Raw-SQL blocks\s*$([\s\S]*?)(?=^## |(?![\s\S]))/m.exec(doc);
  if (!section) throw new Error('doc/database.md has no "## Raw-SQL blocks" section');
  return [...section[1]!.matchAll(/^- `([^`]+)`/gm)].map((m) => m[1]!);
}

async function execute(databaseUrl: string, script: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(script); // simple protocol: the whole script, PL/pgSQL bodies intact
  } finally {
    await client.end();
  }
}

let migrated: ScratchDatabase;
let fromSchema: ScratchDatabase;
beforeAll(async () => {
  [migrated, fromSchema] = await Promise.all([createScratchDatabase('drift_migrated'), createScratchDatabase('drift_schema')]);
  await applyMigrations(migrated.url);
  const datamodel = { path: schemaPath, content: readFileSync(schemaPath, 'utf8') };
  const schemaSql = await diffSchemas(undefined, datamodel, fromSchema.url);
  await execute(fromSchema.url, [schemaSql, ...rawBlocks.map((block) => block.sql)].join('\n'));
});
afterAll(async () => {
  await Promise.all([migrated?.drop(), fromSchema?.drop()]);
});

describe('schema drift', () => {
  it('builds the same schema from the migrations as from schema.prisma plus the raw-SQL blocks', async () => {
    const differences = compareSnapshots(
      { label: 'migrations', schema: await snapshotSchema(migrated.url) },
      { label: 'schema.prisma + raw-sql', schema: await snapshotSchema(fromSchema.url) },
    );
    const advice = 'schema.prisma and prisma/migrations disagree: run `npm run db:diff -- --name <change>` for a schema edit, or mirror a migration edit in schema.prisma.';
    expect(differences, `${advice}\n${differences.join('\n')}`).toEqual([]);
  });

  it('compares a non-trivial schema (the snapshot sees tables, triggers and functions)', async () => {
    const snapshot = await snapshotSchema(migrated.url);
    const kinds = new Set([...snapshot.keys()].map((key) => key.split(' ')[0]));
    expect([...kinds]).toEqual(expect.arrayContaining(['relation', 'column', 'index', 'constraint', 'enum', 'trigger', 'function']));
    expect(snapshot.has('relation _prisma_migrations')).toBe(false);
  });

  it('finds exactly the raw-SQL blocks that doc/database.md lists', () => {
    const found = rawBlocks.map((block) => block.name);
    expect(new Set(found).size, `duplicate raw-sql block names: ${found.join(', ')}`).toBe(found.length);
    expect([...found].sort(), 'every raw-sql block in prisma/migrations must be listed (with its reason) in doc/database.md').toEqual(
      [...documentedBlockNames()].sort(),
    );
  });
});
