// Job behaviour over real HTTP and PostgreSQL with agent-sim agents: command and CAN-config jobs,
// the stage gate that pauses for a human, cancel (QUEUED commands cancelled), an offline dongle
// that waits until the deadline, and request validation.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activeDongle, createOperator, csrf, startFleetApp, type Operator } from '../../../test/support/fleet.ts';
import { allExecutions, createFleet, uploadImage, waitForJob, type Fleet } from '../../../test/support/fleet-jobs.ts';
import type { TestApp } from '../../../test/support/test-app.ts';
import { tickJob } from './job-scheduler.ts';

let app: TestApp;
let operator: Operator;
let fleet: Fleet;
const run = `r${randomBytes(4).toString('hex')}`;

beforeAll(async () => {
  app = await startFleetApp({ jobs: { tickMs: 200 } });
  operator = await createOperator(app);
  fleet = await createFleet(app, operator, { agents: 1, perAgent: 6, tags: { run } });
}, 120_000);
afterAll(async () => {
  await fleet?.stop();
  await app?.stop();
});

/** The trigger-kept counters (what a tick and the progress read) next to a recount of the executions. */
async function countersAndRecount(jobId: string) {
  const read = async (sql: string) => Object.fromEntries((await app.db.pool.query<{ status: string; n: number }>(sql, [jobId])).rows.map((r) => [r.status, r.n]));
  return {
    counters: await read(`SELECT status::text, n FROM job_execution_counts WHERE job_id = $1 AND n <> 0`),
    recount: await read(`SELECT status::text, count(*)::int AS n FROM job_executions WHERE job_id = $1 GROUP BY status`),
  };
}

const createJob = async (body: object) => {
  const res = await operator.agent.post('/api/jobs').set(csrf(operator)).send(body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { id: string };
};

describe('jobs', () => {
  it('runs a typed command on every selected dongle; each execution is a command linked to the job', async () => {
    const job = await createJob({ operation: { type: 'COMMAND', command: { type: 'PING', payload: { echo: 'fleet' } } }, targets: { selector: `run=${run}` }, rollout: { maxPerMinute: 600, maxInFlight: 3 } });
    const done = await waitForJob(operator, job.id, (j) => j.status === 'COMPLETED');
    expect(done.progress).toMatchObject({ SUCCEEDED: 6 });
    const commands = await app.db.prisma.command.findMany({ where: { jobId: job.id } });
    expect(commands).toHaveLength(6);
    expect(commands.every((c) => c.status === 'SUCCEEDED' && c.type === 'PING' && (c.result as { echo: string }).echo === 'fleet')).toBe(true);
    const one = await operator.agent.get(`/api/commands/${commands[0]!.id}`).expect(200);
    expect(one.body.jobId).toBe(job.id);
    // Job and execution changes are events of the organization's log.
    const events = await app.db.prisma.event.findMany({ where: { OR: [{ subjectId: job.id }, { type: 'job.execution_updated', data: { path: ['jobId'], equals: job.id } }] }, orderBy: { id: 'asc' } });
    const types = events.map((e) => (e.type === 'job.execution_updated' ? `execution:${(e.data as { status: string }).status}` : e.type));
    expect(types.filter((t) => t.startsWith('job.'))).toEqual(['job.created', 'job.started', 'job.completed']);
    expect(types.filter((t) => t === 'execution:IN_PROGRESS')).toHaveLength(6);
    expect(types.filter((t) => t === 'execution:SUCCEEDED')).toHaveLength(6);
  });

  it("applies a CAN configuration: each dongle's version is bumped and APPLY_CAN_CONFIG applied", async () => {
    const [first, second] = [...fleet.ids.values()];
    await operator.agent.put(`/api/dongles/${first}/can-config`).set(csrf(operator)).set('If-Match', '0').send({ mode: 'NORMAL', nominalBitrate: 250_000, nominalSamplePoint: 87.5 }).expect(200);
    await expect.poll(async () => (await operator.agent.get(`/api/dongles/${first}/can-config`)).body.appliedVersion, { timeout: 20_000 }).toBe(1);
    const job = await createJob({ operation: { type: 'CAN_CONFIG', config: { mode: 'LISTEN_ONLY', nominalBitrate: 500_000, nominalSamplePoint: 80 } }, targets: { dongleIds: [first, second] } });
    await waitForJob(operator, job.id, (j) => j.status === 'COMPLETED' && j.progress.SUCCEEDED === 2);
    const a = (await operator.agent.get(`/api/dongles/${first}/can-config`)).body;
    const b = (await operator.agent.get(`/api/dongles/${second}/can-config`)).body;
    expect([a.version, a.appliedVersion, a.mode, a.nominalBitrate]).toEqual([2, 2, 'LISTEN_ONLY', 500_000]);
    expect([b.version, b.appliedVersion, b.mode]).toEqual([1, 1, 'LISTEN_ONLY']);
  });

  it('pauses at a stage below its success rate and hands out the next stage only after resume', async () => {
    const sim = fleet.sims[0]!;
    sim.failShare = 1;
    try {
      const image = await uploadImage(operator, randomBytes(2_000), { version: `5.0.${randomBytes(1)[0]}` });
      const job = await createJob({
        operation: { type: 'FIRMWARE_UPDATE', imageId: image.id },
        targets: { selector: `run=${run}` },
        rollout: { maxPerMinute: 600, maxInFlight: 2, stages: [{ percent: 34, minSuccessPercent: 50 }, { percent: 100 }] },
      });
      const paused = await waitForJob(operator, job.id, (j) => j.status === 'PAUSED');
      expect(paused.statusReason).toBe('stage 1 reached 0.0 % success, below its 50 %: resume to start stage 2');
      expect(paused.progress).toMatchObject({ FAILED: 3, PENDING: 3 });
      await new Promise((resolve) => setTimeout(resolve, 1_000)); // several ticks: still nothing handed out
      expect((await operator.agent.get(`/api/jobs/${job.id}`)).body.progress).toMatchObject({ PENDING: 3, IN_PROGRESS: 0 });
      sim.failShare = 0;
      await operator.agent.post(`/api/jobs/${job.id}/resume`).set(csrf(operator)).expect(200);
      const done = await waitForJob(operator, job.id, (j) => j.status === 'COMPLETED');
      expect(done.progress).toMatchObject({ FAILED: 3, SUCCEEDED: 3 });
    } finally {
      sim.failShare = 0;
    }
  });

  it('cancel stops hand-out and cancels the QUEUED commands; an offline dongle waits, then times out at the deadline', async () => {
    // No agent polls for these dongles: their commands stay QUEUED.
    const offlineOwner = await createOperator(app);
    const online = await activeDongle(app, offlineOwner);
    const stale = await activeDongle(app, offlineOwner);
    await app.db.prisma.dongle.update({ where: { id: stale.id }, data: { lastSeenAt: new Date(Date.now() - 3_600_000) } });
    const releasing = await activeDongle(app, offlineOwner);
    await app.db.prisma.dongle.update({ where: { id: releasing.id }, data: { ownershipState: 'RELEASE_PENDING' } });
    const start = await offlineOwner.agent.post('/api/jobs').set(csrf(offlineOwner)).send({
      operation: { type: 'COMMAND', command: { type: 'GET_STATUS' } },
      targets: { dongleIds: [online.id, stale.id, releasing.id] },
      deadline: new Date(Date.now() + 4_000).toISOString(),
    });
    expect(start.status, JSON.stringify(start.body)).toBe(201);
    const inFlight = await waitForJob(offlineOwner, start.body.id, (j) => j.progress.IN_PROGRESS === 1 && j.progress.SKIPPED === 1);
    expect(inFlight.progress.PENDING).toBe(1); // the offline dongle is not handed anything
    const timedOut = await waitForJob(offlineOwner, start.body.id, (j) => j.progress.TIMED_OUT === 1);
    expect(timedOut.status).toBe('IN_PROGRESS');
    const executions = await allExecutions(offlineOwner, start.body.id);
    expect(executions.find((e) => e.dongleId === stale.id)?.reason).toBe('the dongle was not reachable before the job deadline');
    expect(executions.find((e) => e.dongleId === releasing.id)).toMatchObject({ status: 'SKIPPED', reason: "the dongle is no longer an active dongle of the job's organization", commandId: null });

    const cancelled = await offlineOwner.agent.post(`/api/jobs/${start.body.id}/cancel`).set(csrf(offlineOwner));
    expect(cancelled.status).toBe(200);
    const final = await waitForJob(offlineOwner, start.body.id, (j) => j.status === 'CANCELLED' && j.progress.IN_PROGRESS === 0);
    expect(final.progress).toMatchObject({ CANCELLED: 1, TIMED_OUT: 1, SKIPPED: 1 });
    const command = await app.db.prisma.command.findFirstOrThrow({ where: { jobId: start.body.id } });
    expect([command.status, command.error]).toEqual(['CANCELLED', 'job cancelled']);
    // Every transition above (start, skip, hand-out, deadline, cancel) kept the counters exact.
    const { counters, recount } = await countersAndRecount(start.body.id);
    expect(counters).toEqual(recount);
    expect(counters).toEqual({ CANCELLED: 1, TIMED_OUT: 1, SKIPPED: 1 });
  });

  it('cancels a job with hundreds of QUEUED commands in one go, each command cancelled and audited', async () => {
    const owner = await createOperator(app);
    const org = await app.db.prisma.organization.findUniqueOrThrow({ where: { personalOwnerUserId: owner.user.id } });
    const tag = `bulk${randomBytes(3).toString('hex')}`;
    await app.db.prisma.dongle.createMany({
      data: Array.from({ length: 400 }, () => ({ deviceId: randomBytes(8).toString('hex'), ownerUserId: owner.user.id, organizationId: org.id, ownershipState: 'CLAIMED_ACTIVE' as const, lastSeenAt: new Date(), lastSeenAgentId: owner.agentRow.id, tags: { bulk: tag } })),
    });
    const created = await owner.agent.post('/api/jobs').set(csrf(owner)).send({ operation: { type: 'COMMAND', command: { type: 'REBOOT' } }, targets: { selector: `bulk=${tag}` }, rollout: { maxPerMinute: 100_000, maxInFlight: 400 } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    await waitForJob(owner, created.body.id, (j) => j.progress.IN_PROGRESS === 400, 150_000);
    const cancelled = await owner.agent.post(`/api/jobs/${created.body.id}/cancel`).set(csrf(owner));
    expect(cancelled.status, JSON.stringify(cancelled.body)).toBe(200);
    expect(cancelled.body.progress).toMatchObject({ CANCELLED: 400, IN_PROGRESS: 0 });
    expect(await app.db.prisma.command.count({ where: { jobId: created.body.id, status: 'CANCELLED' } })).toBe(400);
    // The same trail as any other cancel (the command lifecycle's one bulk cancel): an audit row
    // and a command.cancelled event per command, naming the job.
    const audit = await app.db.prisma.auditLog.findMany({ where: { action: 'command.cancel', organizationId: org.id } });
    expect(audit).toHaveLength(400);
    expect(audit[0]!.details).toMatchObject({ type: 'REBOOT', reason: 'job_cancelled', jobId: created.body.id });
    const events = await app.db.prisma.event.findMany({ where: { organizationId: org.id, type: 'command.cancelled' } });
    expect(events).toHaveLength(400);
    expect(events[0]!.data).toMatchObject({ type: 'REBOOT', reason: 'job_cancelled' });
    expect(new Set(events.map((e) => e.subjectId))).toEqual(new Set(audit.map((a) => a.targetId)));
    const { counters, recount } = await countersAndRecount(created.body.id);
    expect(counters).toEqual({ CANCELLED: 400 });
    expect(recount).toEqual(counters);
  }, 200_000);

  it('pauses, resumes and cancels only from the states the job state table allows (else 409 invalid_job_state)', async () => {
    const job = await createJob({ operation: { type: 'COMMAND', command: { type: 'PING' } }, targets: { selector: `run=${run}` }, startAt: new Date(Date.now() + 3_600_000).toISOString() });
    const act = (action: string) => operator.agent.post(`/api/jobs/${job.id}/${action}`).set(csrf(operator));
    const refused = async (action: string) => {
      const res = await act(action);
      expect(res.status, JSON.stringify(res.body)).toBe(409);
      expect(res.body.error.code).toBe('invalid_job_state');
    };
    await refused('resume');
    expect((await act('pause')).body.status).toBe('PAUSED');
    await refused('pause');
    expect((await act('resume')).body.status).toBe('SCHEDULED'); // never started
    expect((await act('cancel')).body.status).toBe('CANCELLED');
    for (const action of ['pause', 'resume', 'cancel']) await refused(action);
  });

  it('does not start a job before its startAt when it was resumed after a tick listed it as paused', async () => {
    const job = await createJob({ operation: { type: 'COMMAND', command: { type: 'PING' } }, targets: { selector: `run=${run}` }, startAt: new Date(Date.now() + 3_600_000).toISOString() });
    const act = (action: string) => operator.agent.post(`/api/jobs/${job.id}/${action}`).set(csrf(operator));
    expect((await act('pause')).body.status).toBe('PAUSED');
    // A tick lists every unfinished job that is not SCHEDULED (this one, while PAUSED); the
    // resume lands before that tick locks the row: the tick then finds it SCHEDULED.
    expect((await act('resume')).body.status).toBe('SCHEDULED');
    await app.db.prisma.$transaction((tx) => tickJob(tx, job.id));
    const after = await operator.agent.get(`/api/jobs/${job.id}`);
    expect(after.body.status).toBe('SCHEDULED');
    expect(await app.db.prisma.jobExecution.count({ where: { jobId: job.id } })).toBe(0);
    expect((await act('cancel')).body.status).toBe('CANCELLED');
  });

  it('pauses a started job and resumes it to IN_PROGRESS; a job no dongle matches completes at start and refuses every member action (409)', async () => {
    // A dongle nobody reported lately: its execution waits PENDING, so the job stays IN_PROGRESS.
    const owner = await createOperator(app);
    const offline = await activeDongle(app, owner);
    await app.db.prisma.dongle.update({ where: { id: offline.id }, data: { lastSeenAt: new Date(Date.now() - 3_600_000) } });
    const act = (jobId: string, action: string) => owner.agent.post(`/api/jobs/${jobId}/${action}`).set(csrf(owner));
    const started = await owner.agent.post('/api/jobs').set(csrf(owner)).send({ operation: { type: 'COMMAND', command: { type: 'PING' } }, targets: { dongleIds: [offline.id] } });
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    await waitForJob(owner, started.body.id, (j) => j.status === 'IN_PROGRESS' && j.progress.PENDING === 1);
    expect((await act(started.body.id, 'pause')).body).toMatchObject({ status: 'PAUSED', statusReason: 'paused by a member' });
    expect((await act(started.body.id, 'resume')).body.status).toBe('IN_PROGRESS'); // it had started
    expect((await act(started.body.id, 'cancel')).body.status).toBe('CANCELLED');

    const empty = await owner.agent.post('/api/jobs').set(csrf(owner)).send({ operation: { type: 'COMMAND', command: { type: 'PING' } }, targets: { selector: `run=${run}-none` } });
    expect(empty.status, JSON.stringify(empty.body)).toBe(201);
    const done = await waitForJob(owner, empty.body.id, (j) => j.status === 'COMPLETED');
    expect(done).toMatchObject({ statusReason: 'no dongle matched the targets', targetCount: 0 });
    expect((await owner.agent.get(`/api/jobs/${empty.body.id}`)).body.finishedAt).not.toBeNull();
    for (const action of ['pause', 'resume', 'cancel']) {
      const res = await act(empty.body.id, action);
      expect(res.status, JSON.stringify(res.body)).toBe(409);
      expect(res.body.error.code).toBe('invalid_job_state');
    }
  });

  it('refuses invalid rollouts, a malformed selector and requireSigned on a non-firmware job with 422 naming the field', async () => {
    const bad = async (body: object, path: string) => {
      const res = await operator.agent.post('/api/jobs').set(csrf(operator)).send(body);
      expect(res.status, JSON.stringify(res.body)).toBe(422);
      expect(res.body.error.details.map((d: { path: string }) => d.path)).toContain(path);
    };
    const op = { type: 'COMMAND', command: { type: 'PING' } };
    await bad({ operation: op, targets: { selector: 'env=,x' } }, 'body.targets');
    await bad({ operation: op, targets: { selector: 'a=b' }, rollout: { stages: [{ percent: 50 }, { percent: 40 }, { percent: 100 }] } }, 'body.rollout.stages.1.percent');
    await bad({ operation: op, targets: { selector: 'a=b' }, rollout: { stages: [{ percent: 50 }] } }, 'body.rollout.stages');
    await bad({ operation: op, targets: { selector: 'a=b' }, requireSigned: true }, 'body.requireSigned');
    await bad({ operation: { type: 'COMMAND', command: { type: 'SEND_FRAME', payload: { canId: 4096, data: '' } } }, targets: { selector: 'a=b' } }, 'body.operation.command.payload.canId');
    await bad({ operation: op, targets: { selector: 'a=b' }, abortRules: [{ failureType: 'FAILED', minExecuted: 0, thresholdPercent: 10 }] }, 'body.abortRules.0.minExecuted');
  });
});
