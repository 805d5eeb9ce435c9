// The db CLI as a developer runs it: `npm run db:…` from the repository root, against a scratch
// database given as DATABASE_URL. Kept small: each run is a real npm + tsx process.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyMigrations } from '../../src/tooling/migrator.ts';
import { readLocalMigrations } from '../../src/platform/migration-status.ts';
import { repoRoot } from '../../src/platform/paths.ts';
import { DEMO_OPERATOR, seedDemoFleet } from '../../src/tooling/seed.ts';
import { connectDatabase } from '../../src/platform/database.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { createScratchDatabase, type ScratchDatabase } from '../support/scratch-database.ts';
import { sharedHasher } from '../support/test-app.ts';

const run = promisify(execFile);
const migrations = readLocalMigrations().map((m) => m.name);

interface CliResult {
  code: number;
  output: string;
}

/** `npm run <script> -- <args>` from the repo root; never throws on a non-zero exit. */
async function npmRun(script: string, args: string[], env: Record<string, string>): Promise<CliResult> {
  const argv = ['run', '--silent', script, ...(args.length ? ['--', ...args] : [])];
  try {
    const { stdout, stderr } = await run('npm', argv, { cwd: repoRoot, env: { ...process.env, NODE_ENV: 'development', LOG_LEVEL: 'warn', ...env } });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof failed.code === 'number' ? failed.code : -1, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
  }
}

const scratches: ScratchDatabase[] = [];
async function scratchDatabase(): Promise<ScratchDatabase> {
  const scratch = await createScratchDatabase('cli');
  scratches.push(scratch);
  return scratch;
}
afterAll(() => Promise.all(scratches.map((s) => s.drop())));

describe('npm run db:status / db:migrate', () => {
  let scratch: ScratchDatabase;
  beforeAll(async () => {
    scratch = await scratchDatabase();
  });

  it('exits 1 listing pending migrations, 0 after db:migrate', async () => {
    const env = { DATABASE_URL: scratch.url };
    const before = await npmRun('db:status', [], env);
    expect(before.code, before.output).toBe(1);
    expect(before.output).toContain(`pending  ${migrations.join(', ')}`);

    const migrate = await npmRun('db:migrate', [], env);
    expect(migrate.code, migrate.output).toBe(0);
    expect(migrate.output).toContain(`${migrations.length} migration(s) applied.`);

    const after = await npmRun('db:status', [], env);
    expect(after.code, after.output).toBe(0);
    expect(after.output).toContain(`applied  ${migrations.join(', ')}`);
  });

  it('passes --applied and --rolled-back through npm to the migrator', async () => {
    const fresh = await scratchDatabase();
    const env = { DATABASE_URL: fresh.url };
    const marked = await npmRun('db:migrate', ['--applied', migrations[0]!], env);
    expect(marked.code, marked.output).toBe(0);
    expect(marked.output).toContain(`marked ${migrations[0]} applied`);
    // Only failed migrations can be rolled back: the engine's refusal proves the flag arrived.
    const rolledBack = await npmRun('db:migrate', ['--rolled-back', migrations[0]!], env);
    expect(rolledBack.code).toBe(1);
    expect(rolledBack.output).toContain(migrations[0]);
  });
});

describe('npm run db:seed', () => {
  it('seeds a migrated database and refuses production', async () => {
    const scratch = await scratchDatabase();
    await applyMigrations(scratch.url);
    const env = { DATABASE_URL: scratch.url };

    // Idempotence is proved on seedDemoFleet itself below; this checks the command around it.
    const seeded = await npmRun('db:seed', [], env);
    expect(seeded.code, seeded.output).toBe(0);
    expect(seeded.output).toContain(`demo operator: ${DEMO_OPERATOR.email} / ${DEMO_OPERATOR.password}`);
    expect(seeded.output).toMatch(/created: user demo@fleet\.local/);

    const production = await npmRun('db:seed', [], {
      ...env,
      NODE_ENV: 'production',
      SESSION_SECRET: randomBytes(32).toString('hex'),
      DONGLE_TOKEN_KEYS: `1:${randomBytes(32).toString('base64')}`,
    });
    expect(production.code).not.toBe(0);
    expect(production.output).toContain('refuses to run with NODE_ENV=production');
  });
});

describe('seedDemoFleet', () => {
  it('builds the demo fleet, and a second run changes nothing', async () => {
    const scratch = await scratchDatabase();
    await applyMigrations(scratch.url);
    const db = connectDatabase({ url: scratch.url, poolMax: 2, logger: createLogger({ level: 'silent' }) });
    try {
      const counts = async () => ({
        users: await db.prisma.user.count(),
        agents: await db.prisma.agent.count(),
        dongles: await db.prisma.dongle.groupBy({ by: ['ownershipState'], _count: true, orderBy: { ownershipState: 'asc' } }),
        groups: await db.prisma.dongleGroup.count(),
        canConfigs: await db.prisma.canConfig.count(),
        commands: await db.prisma.command.count(),
      });
      const first = await seedDemoFleet(db, sharedHasher, { nodeEnv: 'development' });
      expect(first.created.length).toBeGreaterThan(0);
      const afterFirst = await counts();
      expect(afterFirst).toMatchObject({ users: 1, agents: 2, groups: 1, canConfigs: 1, commands: 3 });
      expect(afterFirst.dongles.map((d) => d.ownershipState)).toEqual(['UNCLAIMED', 'CLAIM_PENDING', 'CLAIMED_ACTIVE', 'RELEASE_PENDING']);

      const second = await seedDemoFleet(db, sharedHasher, { nodeEnv: 'development' });
      expect(second.created).toEqual([]);
      expect(await counts()).toEqual(afterFirst);

      const operator = await db.prisma.user.findUniqueOrThrow({ where: { email: DEMO_OPERATOR.email } });
      expect(await sharedHasher.verify(operator.passwordHash, DEMO_OPERATOR.password)).toBe(true);
      await expect(seedDemoFleet(db, sharedHasher, { nodeEnv: 'production' })).rejects.toThrow(/refuses/);
    } finally {
      await db.close();
    }
  });
});
