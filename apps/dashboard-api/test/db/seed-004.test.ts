// Seed 004's SQL checks, run unchanged against a freshly migrated database: the schema must
// accept the seed's inserts (every NOT NULL column it omits has a default) and refuse its two
// bad groups for the reasons the seed expects. They run through the real psql client when it is
// installed, and always through mini-psql (test/support/mini-psql.ts), so a machine with only
// Node and npm runs them too.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyMigrations } from '../../src/tooling/migrator.ts';
import { runPsqlScript } from '../support/mini-psql.ts';
import { createScratchDatabase, type ScratchDatabase } from '../support/scratch-database.ts';
import { extractHereStrings, findSeed004, readFixture, SEED_004_BLOCKS, seedsDir, type Seed004Block } from './seed-004-blocks.ts';

interface PsqlResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Feeds a script to psql on stdin, as the seed does (`$sql | psql ...`). */
async function runRealPsql(databaseUrl: string, script: string): Promise<PsqlResult> {
  const result = spawnSync('psql', ['--no-psqlrc', '--dbname', databaseUrl], { input: script, encoding: 'utf8' });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const psqlInstalled = spawnSync('psql', ['--version']).status === 0;
const runners: Array<[string, (url: string, script: string) => Promise<PsqlResult>]> = [
  ...(psqlInstalled ? [['psql', runRealPsql] as [string, typeof runRealPsql]] : []),
  ['mini-psql', runPsqlScript],
];

async function count(scratch: ScratchDatabase, table: string): Promise<number> {
  const client = new pg.Client({ connectionString: scratch.url });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
    return rows[0]!.n;
  } finally {
    await client.end();
  }
}

describe('seed 004 SQL checks on a migrated database', () => {
  // In CI the shared seeds sit beside the repository; a clone without them can only skip this.
  const seedsPresent = existsSync(seedsDir);
  const compareTitle = seedsPresent
    ? 'keeps the fixtures identical to the blocks of seed 004'
    : `skips the fixture comparison: ${seedsDir} is absent`;
  it.skipIf(!seedsPresent)(compareTitle, () => {
    const seedFile = findSeed004();
    expect(seedFile, `no 004_*.txt in ${seedsDir}`).toBeDefined();
    const blocks = extractHereStrings(readFileSync(seedFile!, 'utf8'));
    for (const [fixture, variable] of Object.entries(SEED_004_BLOCKS)) {
      expect(readFixture(fixture as Seed004Block), `test/fixtures/seed-004/${fixture}.sql vs $${variable} in ${seedFile}`).toBe(blocks.get(variable));
    }
  });

});

describe.each(runners)('seed 004 SQL checks through %s', (_name, runPsql) => {
  let scratch: ScratchDatabase;
  beforeAll(async () => {
    scratch = await createScratchDatabase('seed004');
    await applyMigrations(scratch.url);
  });
  afterAll(() => scratch?.drop());

  // The three blocks share one database and run in the seed's order.
  it('accepts the setup block: a user, two dongles and one group', async () => {
    const result = await runPsql(scratch.url, readFixture('setup'));
    expect(result.stderr).not.toMatch(/ERROR/);
    expect(result.status).toBe(0);
    expect(await count(scratch, 'users')).toBe(1);
    expect(await count(scratch, 'dongles')).toBe(2);
    expect(await count(scratch, 'dongle_groups')).toBe(1);
  });

  it('refuses a group of the same dongle twice on the distinct-dongles CHECK', async () => {
    const result = await runPsql(scratch.url, readFixture('fail-same-dongle'));
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/violates check constraint "dongle_groups_distinct_dongles"/);
    // The statement failed as a whole: its new dongle was not kept either.
    expect(await count(scratch, 'dongles')).toBe(2);
    expect(await count(scratch, 'dongle_groups')).toBe(1);
  });

  it('refuses a dongle in a second group on a unique constraint', async () => {
    const result = await runPsql(scratch.url, readFixture('fail-second-group'));
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/duplicate key value violates unique constraint/);
    expect(await count(scratch, 'dongle_groups')).toBe(1);
  });
});
