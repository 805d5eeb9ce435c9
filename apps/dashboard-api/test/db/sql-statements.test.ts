// The raw statements the hot paths run on the pg pool live in `src/features/<feature>/*.sql.ts`
// (doc/architecture.md, "Data access"), each one typed definition that the service and the bench
// import. Their types are written by hand, so this proves the other half against the migrated
// schema: every statement is valid SQL for these tables (PREPARE parses, resolves every table,
// column, cast and parameter without running it), and no two prepared names collide (pg keeps
// named statements per connection; one name with two texts would fail at run time).
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import type { Statement } from '../../src/platform/database.ts';
import { parseSelector } from '../../src/features/dongles/tag-selector.ts';

const features = fileURLToPath(new URL('../../src/features/', import.meta.url));
const files = readdirSync(features, { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.sql.ts')).sort();

const isStatement = (value: unknown): value is Statement<unknown[], unknown> =>
  typeof value === 'object' && value !== null && typeof (value as { text?: unknown }).text === 'string';

/** Every exported statement of a file, and the ones its builders make for a sample tag selector. */
async function statementsOf(file: string): Promise<[string, Statement<unknown[], unknown>][]> {
  const exports = (await import(pathToFileURL(path.join(features, file)).href)) as Record<string, unknown>;
  const selector = parseSelector('env=prod,site!=lab,!retired');
  if (!selector.ok) throw new Error('sample selector');
  const found: [string, Statement<unknown[], unknown>][] = [];
  for (const [name, value] of Object.entries(exports)) {
    if (isStatement(value)) found.push([name, value]);
    // Builders of statements whose text depends on a selector: (terms) => { statement, params }.
    if (typeof value === 'function' && value.length === 1 && /Filtered|BySelector/.test(name)) {
      const built = (value as (terms: unknown) => { statement?: unknown })(selector.terms).statement;
      if (isStatement(built)) found.push([`${name}(selector)`, built]);
    }
  }
  return found;
}

const pool = new pg.Pool({ connectionString: inject('databaseUrl'), max: 1 });
afterAll(() => pool.end());

describe('the features\' *.sql.ts statements', () => {
  it('exist for the hot paths (commands, auth, organizations, dongles, tags)', () => {
    expect(files.map((file) => path.basename(file))).toEqual(expect.arrayContaining(['commands.sql.ts', 'auth.sql.ts', 'organizations.sql.ts', 'dongles.sql.ts', 'tags.sql.ts']));
  });

  it('each parses against the migrated schema, and no two share a prepared name', async () => {
    const names = new Map<string, string>();
    const client = await pool.connect();
    try {
      for (const file of files) {
        const statements = await statementsOf(file);
        expect(statements.length, `${file} exports no statement`).toBeGreaterThan(0);
        for (const [exportName, statement] of statements) {
          const where = `${file} ${exportName}`;
          if (statement.name !== undefined) {
            expect(names.get(statement.name), `prepared name ${statement.name} of ${where}`).toBeUndefined();
            names.set(statement.name, where);
          }
          const error = await client.query(`PREPARE checked AS ${statement.text}`).then(
            () => undefined,
            (e: Error) => e.message,
          );
          expect(error, where).toBeUndefined();
          await client.query('DEALLOCATE checked');
        }
      }
    } finally {
      client.release();
    }
  });
});
