// Two API instances share the database; the scheduler runs on both. The one doing most of the
// hand-out (a separate process ticking every 50 ms) is killed with SIGKILL in the middle of a
// firmware job: its open transaction dies with it, the surviving instance carries on, the job
// completes, and no dongle was handed the update twice.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../../src/tooling/embedded.ts';
import { createOperator, csrf, startFleetApp, type Operator } from '../support/fleet.ts';
import { createFleet, uploadImage, waitForJob, type Fleet } from '../support/fleet-jobs.ts';
import type { TestApp } from '../support/test-app.ts';
import { ServiceProcess } from './service-process.ts';

let app: TestApp;
let other: ServiceProcess;
let operator: Operator;
let fleet: Fleet;
let dataDir: string;
const run = `r${randomBytes(4).toString('hex')}`;

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'fleet-kill-'));
  const port = await freePort();
  other = new ServiceProcess({
    DATABASE_URL: inject('databaseUrl'),
    PORT: String(port),
    DATA_DIR: dataDir,
    MIGRATE_ON_START: 'false',
    // As every test app (test-app.ts TEST_ENV): workers that would act on other test files' rows
    // in the shared database stay off in this extra process.
    EMAIL_SENDER_ENABLED: 'false',
    WEBHOOK_DELIVERY_ENABLED: 'false',
    PRESENCE_WORKER_ENABLED: 'false',
    JOB_TICK_MS: '50',
    LOG_LEVEL: 'warn',
    DONGLE_TOKEN_KEYS: `1:${randomBytes(32).toString('base64')}`,
  });
  // The surviving instance ticks slowly, so the other one hands out most executions until it dies.
  app = await startFleetApp({ jobs: { tickMs: 1_000 } });
  operator = await createOperator(app);
  fleet = await createFleet(app, operator, { agents: 2, perAgent: 30, tags: { run } });
  await other.waitForReady(`http://127.0.0.1:${port}/readyz`);
}, 180_000);
afterAll(async () => {
  other?.kill();
  await fleet?.stop();
  await app?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('a job interrupted by killing an API instance', () => {
  it('completes on the surviving instance without delivering an update twice', async () => {
    const image = await uploadImage(operator, randomBytes(6_000), { version: '7.0.0' });
    const created = await operator.agent.post('/api/jobs').set(csrf(operator)).send({
      operation: { type: 'FIRMWARE_UPDATE', imageId: image.id },
      targets: { selector: `run=${run}` },
      rollout: { maxPerMinute: 6_000, maxInFlight: 8 },
      executionTimeoutSeconds: 60,
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    await waitForJob(operator, created.body.id, (j) => (j.progress.SUCCEEDED ?? 0) >= 15);
    expect(other.running).toBe(true);
    other.child.kill('SIGKILL');
    expect((await other.exited).signal).toBe('SIGKILL');
    const beforeKill = await app.db.prisma.command.count({ where: { jobId: created.body.id } });

    const job = await waitForJob(operator, created.body.id, (j) => j.status === 'COMPLETED');
    expect(job.progress).toMatchObject({ SUCCEEDED: 60, FAILED: 0, TIMED_OUT: 0 });
    const perDongle = await app.db.prisma.$queryRaw<{ n: number }[]>`
      SELECT count(*)::int AS n FROM commands WHERE job_id = ${created.body.id}::uuid GROUP BY dongle_id`;
    expect(perDongle).toHaveLength(60);
    expect(perDongle.every((row) => row.n === 1)).toBe(true);
    const updates = fleet.sims.flatMap((sim) => sim.updates);
    expect(updates).toHaveLength(60);
    expect(new Set(updates.map((u) => u.deviceId)).size).toBe(60);
    // Hand-out went on after the kill (the survivor's part), and the job started once.
    expect(beforeKill).toBeLessThan(60);
    expect(await app.db.prisma.auditLog.count({ where: { targetId: created.body.id, action: 'job.start' } })).toBe(1);
  });
});
