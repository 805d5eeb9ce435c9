// Fleet jobs end to end (real PostgreSQL, real HTTP, agent-sim as the fleet): a staged, signed
// firmware rollout over 200 simulated dongles that completes (mismatched hardware skipped with
// the reason); the same fleet with 30 % injected failures aborts in its first stage and leaves
// the later stages untouched; a tampered image is refused by the agent and reported.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOperator, csrf, startFleetApp, type Operator } from '../support/fleet.ts';
import { allExecutions, createFleet, signingKeyPair, uploadImage, waitForJob, type Fleet } from '../support/fleet-jobs.ts';
import type { TestApp } from '../support/test-app.ts';

let app: TestApp;
let operator: Operator;
let fleet: Fleet;
let oddHardware: Fleet;
const run = `r${randomBytes(4).toString('hex')}`;
const key = signingKeyPair();
let keyId: string;

beforeAll(async () => {
  app = await startFleetApp({ jobs: { tickMs: 200 } });
  operator = await createOperator(app);
  fleet = await createFleet(app, operator, { agents: 4, perAgent: 50, tags: { run, ring: 'main' } });
  oddHardware = await createFleet(app, operator, { agents: 1, perAgent: 2, tags: { run, ring: 'main' }, sim: { hardware: { chipFamily: 'stm32f4', boardRevision: 'rev-a' } } });
  keyId = (await operator.agent.post('/api/firmware/signing-keys').set(csrf(operator)).send({ name: 'release', publicKey: key.publicKeyBase64 }).expect(201)).body.id;
}, 180_000);
afterAll(async () => {
  await fleet?.stop();
  await oddHardware?.stop();
  await app?.stop();
});

async function signedImage(version: string) {
  const bytes = randomBytes(8_000);
  return uploadImage(operator, bytes, { version, signature: key.sign(bytes), signingKeyId: keyId });
}

const firmwareCommandsPerDongle = (jobId: string) =>
  app.db.prisma.$queryRaw<{ dongle_id: string; n: number }[]>`
    SELECT dongle_id, count(*)::int AS n FROM commands WHERE job_id = ${jobId}::uuid GROUP BY dongle_id HAVING count(*) > 1`;

describe('a staged firmware rollout over 200 simulated dongles', () => {
  it('completes stage by stage; every compatible dongle reports the new version once; other hardware is SKIPPED', async () => {
    const image = await signedImage('2.0.0');
    const created = await operator.agent.post('/api/jobs').set(csrf(operator)).send({
      name: 'fw 2.0.0',
      operation: { type: 'FIRMWARE_UPDATE', imageId: image.id },
      targets: { selector: `run=${run},ring=main` },
      rollout: { maxPerMinute: 6_000, maxInFlight: 40, stages: [{ percent: 1, minSuccessPercent: 100 }, { percent: 10, minSuccessPercent: 90 }, { percent: 100, minSuccessPercent: 90 }] },
      abortRules: [{ failureType: 'ANY', minExecuted: 10, thresholdPercent: 20 }],
      executionTimeoutSeconds: 60,
      requireSigned: true,
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.status).toBe('SCHEDULED');

    const job = await waitForJob(operator, created.body.id, (j) => j.status === 'COMPLETED');
    expect(job.targetCount).toBe(202);
    expect(job.progress).toMatchObject({ SUCCEEDED: 200, SKIPPED: 2, FAILED: 0, TIMED_OUT: 0, PENDING: 0, IN_PROGRESS: 0 });

    const executions = await allExecutions(operator, created.body.id);
    const skipped = executions.filter((e) => e.status === 'SKIPPED');
    expect(skipped.map((e) => e.dongleId).sort()).toEqual([...oddHardware.ids.values()].sort());
    expect(skipped[0]!.reason).toBe('reported hardware stm32f4/rev-a does not match the image target stm32g4/rev-b');

    // Stages in order: nothing of a stage was handed out before the previous one had finished.
    const lastFinished = (to: number) => Math.max(...executions.filter((e) => e.seq < to && e.finishedAt).map((e) => Date.parse(e.finishedAt!)));
    const firstDispatched = (from: number) => Math.min(...executions.filter((e) => e.seq >= from && e.dispatchedAt).map((e) => Date.parse(e.dispatchedAt!)));
    expect(firstDispatched(3)).toBeGreaterThanOrEqual(lastFinished(3)); // stage 1: ceil(1 % of 202) = 3
    expect(firstDispatched(21)).toBeGreaterThanOrEqual(lastFinished(21)); // stage 2: ceil(10 % of 202) = 21

    // The dongles report it, each update was downloaded in ranges (resumed) and flashed once.
    const versions = await app.db.prisma.dongle.findMany({ where: { id: { in: [...fleet.ids.values()] } }, select: { firmwareVersion: true } });
    expect(new Set(versions.map((v) => v.firmwareVersion))).toEqual(new Set(['2.0.0']));
    const updates = fleet.sims.flatMap((sim) => sim.updates);
    expect(updates).toHaveLength(200);
    expect(new Set(updates.map((u) => u.deviceId)).size).toBe(200);
    expect(updates.every((u) => u.outcome === 'flashed' && u.requests === 3)).toBe(true);
    expect(await firmwareCommandsPerDongle(created.body.id)).toEqual([]);

    const audit = await app.db.prisma.auditLog.findMany({ where: { targetId: created.body.id }, orderBy: { createdAt: 'asc' }, select: { action: true } });
    expect(audit.map((a) => a.action)).toEqual(['job.create', 'job.start', 'job.stage.advance', 'job.stage.advance', 'job.complete']);
  });

  it('with 30 % of flashes failing, aborts in the first stage and leaves the later stages untouched', async () => {
    for (const sim of fleet.sims) sim.failShare = 0.3;
    const image = await signedImage('2.1.0');
    const created = await operator.agent.post('/api/jobs').set(csrf(operator)).send({
      operation: { type: 'FIRMWARE_UPDATE', imageId: image.id },
      targets: { dongleIds: [...fleet.ids.values()] },
      rollout: { maxPerMinute: 6_000, maxInFlight: 20, stages: [{ percent: 10, minSuccessPercent: 90 }, { percent: 50 }, { percent: 100 }] },
      abortRules: [{ failureType: 'FAILED', minExecuted: 10, thresholdPercent: 20 }],
      executionTimeoutSeconds: 60,
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const job = await waitForJob(operator, created.body.id, (j) => j.status === 'ABORTED' && j.progress.IN_PROGRESS === 0);
    expect(job.statusReason).toMatch(/^abort rule crossed: \d+ of \d+ executed .* FAILED, threshold 20 %$/);
    expect(job.currentStage).toBe(0);

    const executions = await allExecutions(operator, created.body.id);
    const later = executions.filter((e) => e.seq >= 20);
    expect(later).toHaveLength(180);
    expect(later.every((e) => e.status === 'CANCELLED' && e.commandId === null && e.dispatchedAt === null)).toBe(true);
    const commands = await app.db.prisma.command.count({ where: { jobId: created.body.id } });
    expect(commands).toBeLessThanOrEqual(20);
    expect(executions.filter((e) => e.status === 'FAILED').every((e) => e.reason === 'simulated flash failure (verify after write failed)')).toBe(true);
    const abort = await app.db.prisma.auditLog.findFirst({ where: { targetId: created.body.id, action: 'job.abort' } });
    expect(abort?.actorType).toBe('system');
    for (const sim of fleet.sims) sim.failShare = 0;
  });
});

describe('a tampered image', () => {
  let small: Fleet;
  beforeAll(async () => {
    small = await createFleet(app, operator, { agents: 1, perAgent: 2, tags: { run, ring: 'tamper' } });
  });
  afterAll(() => small?.stop());

  const tamperJob = async (imageId: string) => {
    const created = await operator.agent.post('/api/jobs').set(csrf(operator)).send({
      operation: { type: 'FIRMWARE_UPDATE', imageId },
      targets: { selector: `run=${run},ring=tamper` },
      rollout: { maxPerMinute: 600, maxInFlight: 2 },
      executionTimeoutSeconds: 30,
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    return waitForJob(operator, created.body.id, (j) => j.status === 'COMPLETED');
  };

  it('is refused by the agent when its bytes no longer match the SHA-256, and the refusal is the execution result', async () => {
    const image = await signedImage('3.0.0');
    await app.db.pool.query(`UPDATE firmware_images SET data = overlay(data PLACING '\\xff'::bytea FROM 100) WHERE id = $1`, [image.id]);
    const job = await tamperJob(image.id);
    expect(job.progress).toMatchObject({ FAILED: 2, SUCCEEDED: 0 });
    const executions = await allExecutions(operator, job.id);
    expect(executions.every((e) => /^image refused: sha256 mismatch/.test(e.reason ?? ''))).toBe(true);
    expect(small.sims[0]!.updates.map((u) => u.outcome)).toEqual(['refused', 'refused']);
    expect(small.sims[0]!.dongles.map((d) => d.firmwareVersion)).toEqual(['1.4.2', '1.4.2']);
  });

  it('is refused when bytes and hash were both replaced but the signature no longer verifies', async () => {
    const image = await signedImage('3.0.1');
    const evil = randomBytes(8_000);
    const { createHash } = await import('node:crypto');
    await app.db.pool.query(`UPDATE firmware_images SET data = $2, sha256 = $3 WHERE id = $1`, [image.id, evil, createHash('sha256').update(evil).digest('hex')]);
    const job = await tamperJob(image.id);
    expect(job.progress).toMatchObject({ FAILED: 2 });
    const executions = await allExecutions(operator, job.id);
    expect(executions.every((e) => e.reason === 'image refused: signature does not verify under a trusted key')).toBe(true);
    expect(small.sims[0]!.dongles.map((d) => d.firmwareVersion)).toEqual(['1.4.2', '1.4.2']);
  });
});
