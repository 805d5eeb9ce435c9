// The job scheduler: a periodic worker on every instance (platform/lifecycle.ts). Each tick
// takes each unfinished job in its own transaction, locked with FOR UPDATE SKIP LOCKED, so one
// instance at a time works on a job and the others skip it; a killed instance's transaction
// rolls back and its lock goes with it. Within the lock a tick:
//   1. starts a due SCHEDULED job (job-start.ts);
//   2. reconciles IN_PROGRESS executions with their commands (job-reconcile.ts);
//   3. for an IN_PROGRESS job: times out what is still PENDING after the deadline, applies the
//      abort rules (job-stop.ts), closes finished stages (job-stages.ts), then hands out PENDING
//      executions of the current stage (job-dispatch.ts);
//   4. marks a stopped job finished once nothing of it is in flight.
// (job_id, dongle_id) is unique, so a job never acts on a dongle twice.
import type { Database, Tx } from '../../platform/database.ts';
import { periodicWorker, type BackgroundWorker } from '../../platform/lifecycle.ts';
import type { Logger } from '../../platform/logger.ts';
import { dispatch } from './job-dispatch.ts';
import { loadImage } from './job-operations.ts';
import { reconcile, timeOutPending } from './job-reconcile.ts';
import { countExecutions, lockUnfinishedJob, SYSTEM } from './job-row.ts';
import { crossedAbortRule } from './job-rules.ts';
import { JOB_TRANSITIONS, jobCanApply, jobIsFinal, jobTarget, RUNNING_JOB_STATUS } from './job-lifecycle.ts';
import { advanceStages } from './job-stages.ts';
import { startJob } from './job-start.ts';
import { stopJob } from './job-stop.ts';

export interface TickResult {
  jobs: number;
  handedOut: number;
  /** Jobs whose tick failed (rolled back; retried next tick). */
  failed: Array<{ jobId: string; error: string }>;
}

/** One job's tick inside its transaction; false when another instance holds it. */
export async function tickJob(tx: Tx, jobId: string): Promise<{ locked: boolean; handedOut: number }> {
  const job = await lockUnfinishedJob(tx, jobId);
  if (!job) return { locked: false, handedOut: 0 };
  if (jobCanApply('start', job.status)) {
    // Checked on the locked row: a job listed while PAUSED and resumed before this lock is
    // SCHEDULED again, and may still be waiting for its startAt.
    if (job.start_due) await startJob(tx, job);
    return { locked: true, handedOut: 0 };
  }
  const image = await loadImage(tx, job.firmware_image_id);
  await reconcile(tx, job, image?.version ?? null);
  let handedOut = 0;
  if (job.status === RUNNING_JOB_STATUS) {
    if (job.past_deadline) await timeOutPending(tx, job);
    const counts = await countExecutions(tx, job.id);
    const crossed = crossedAbortRule(job.abort_rules, counts);
    if (crossed) {
      await stopJob(tx, job, 'abort', crossed.reason, SYSTEM);
      job.status = jobTarget('abort');
    } else {
      await advanceStages(tx, job, counts);
      if (job.status === RUNNING_JOB_STATUS) handedOut = await dispatch(tx, job, counts, image);
    }
  }
  if (jobIsFinal(job.status)) {
    const inFlight = (await countExecutions(tx, job.id)).IN_PROGRESS;
    if (inFlight === 0) await tx.$executeRaw`UPDATE jobs SET finished_at = now(), updated_at = now() WHERE id = ${job.id}::uuid`;
  }
  return { locked: true, handedOut };
}

/** One pass over every unfinished job (each in its own transaction). */
export async function runSchedulerTick(db: Database): Promise<TickResult> {
  const due = await db.prisma.$queryRaw<{ id: string }[]>`
    SELECT id FROM jobs WHERE finished_at IS NULL AND (status <> ${JOB_TRANSITIONS.start.from[0]}::job_status OR start_at <= now()) ORDER BY created_at LIMIT 100`;
  let jobs = 0;
  let handedOut = 0;
  const failed: Array<{ jobId: string; error: string }> = [];
  for (const { id } of due) {
    // One job's failure (its transaction rolls back) must not hold up the others.
    try {
      const result = await db.prisma.$transaction((tx) => tickJob(tx, id), { timeout: 60_000, maxWait: 10_000 });
      if (result.locked) jobs += 1;
      handedOut += result.handedOut;
    } catch (error) {
      failed.push({ jobId: id, error: (error as Error).message });
    }
  }
  return { jobs, handedOut, failed };
}

export function createJobScheduler(options: { db: Database; logger: Logger; tickMs: number }): BackgroundWorker {
  return periodicWorker({
    name: 'job-scheduler',
    intervalMs: options.tickMs,
    work: async () => {
      const result = await runSchedulerTick(options.db);
      for (const failure of result.failed) options.logger.warn({ jobId: failure.jobId, err: failure.error }, 'job tick failed; retrying next tick');
      if (result.handedOut > 0) options.logger.debug({ jobs: result.jobs, handedOut: result.handedOut }, 'job scheduler tick');
    },
    logger: options.logger,
  });
}
