// ensureAdmin when several instances start at once against one database: exactly one creates
// (or promotes) the account, the others report "unchanged", nobody crashes.
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { applyMigrations } from '../../src/tooling/migrator.ts';
import { announceOneTimePassword, DEFAULT_ADMIN_EMAIL, ensureAdmin } from '../../src/features/users/admin-bootstrap.ts';
import { connectDatabase, type Database } from '../../src/platform/database.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { createScratchDatabase } from '../support/scratch-database.ts';
import { createUser, uniqueEmail } from '../support/factories.ts';
import { sharedHasher } from '../support/test-app.ts';

const logger = createLogger({ level: 'silent' });
const opened: Database[] = [];
const cleanups: (() => Promise<unknown>)[] = [];

/** One Database per simulated instance, as separate processes would have. */
function instance(url = inject('databaseUrl')): Database {
  const db = connectDatabase({ url, poolMax: 2, logger });
  opened.push(db);
  return db;
}

afterEach(async () => {
  await Promise.all(opened.splice(0).map((db) => db.close()));
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

describe('ensureAdmin started by two instances at once', () => {
  it('creates the configured admin once; the other instance reports unchanged', async () => {
    const email = uniqueEmail('admin');
    const admin = { email, password: 'a long enough admin password' };
    const results = await Promise.all([ensureAdmin(instance(), sharedHasher, admin), ensureAdmin(instance(), sharedHasher, admin)]);
    expect(results.map((r) => r!.action).sort()).toEqual(['created', 'unchanged']);

    const db = instance();
    const users = await db.prisma.user.findMany({ where: { email } });
    expect(users).toHaveLength(1);
    expect(users[0]!.role).toBe('admin');
    expect(await sharedHasher.verify(users[0]!.passwordHash, admin.password)).toBe(true);
  });

  it('promotes an existing user once, with one audit row', async () => {
    const db = instance();
    const user = await createUser(db);
    const admin = { email: user.email, password: undefined };
    const results = await Promise.all([ensureAdmin(instance(), sharedHasher, admin), ensureAdmin(instance(), sharedHasher, admin)]);
    expect(results.map((r) => r!.action).sort()).toEqual(['promoted', 'unchanged']);
    expect((await db.prisma.user.findUniqueOrThrow({ where: { id: user.id } })).role).toBe('admin');
    expect(await db.prisma.auditLog.count({ where: { action: 'admin.bootstrap.promote', targetId: user.id } })).toBe(1);
  });

  it('on an empty database, creates one default admin and returns only that one-time password', async () => {
    // "Is there any admin?" is a whole-database question: ask it of a database of our own.
    const scratch = await createScratchDatabase('admin_race');
    cleanups.push(() => scratch.drop());
    await applyMigrations(scratch.url);

    const results = await Promise.all([ensureAdmin(instance(scratch.url), sharedHasher, undefined), ensureAdmin(instance(scratch.url), sharedHasher, undefined)]);
    const created = results.find((r) => r?.action === 'created');
    const other = results.find((r) => r !== created);
    expect(created?.oneTimePassword).toEqual(expect.any(String));
    expect(other).toEqual({ email: DEFAULT_ADMIN_EMAIL, action: 'unchanged' });

    const stored = await instance(scratch.url).prisma.user.findUniqueOrThrow({ where: { email: DEFAULT_ADMIN_EMAIL } });
    expect(await sharedHasher.verify(stored.passwordHash, created!.oneTimePassword!)).toBe(true);
  });
});

describe('announcing a generated first-admin password', () => {
  const generated = { email: 'admin@fleet.local', action: 'created' as const, oneTimePassword: 'one-time-Secret-123' };

  it('prints it to the terminal in development', () => {
    const printed: string[] = [];
    announceOneTimePassword(generated, { production: false, dataDir: '/nonexistent', write: (text) => printed.push(text) });
    expect(printed.join('')).toContain('one-time-Secret-123');
  });

  it('keeps it out of stdout (the log stream) in production: a 0600 file under DATA_DIR, path printed', () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'fleet-admin-'));
    try {
      const printed: string[] = [];
      announceOneTimePassword(generated, { production: true, dataDir, write: (text) => printed.push(text) });
      expect(printed.join('')).not.toContain('one-time-Secret-123');
      const file = path.join(dataDir, 'first-admin-password');
      expect(printed.join('')).toContain(file);
      expect(readFileSync(file, 'utf8')).toContain('one-time-Secret-123');
      expect(statSync(file).mode & 0o777).toBe(0o600);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
