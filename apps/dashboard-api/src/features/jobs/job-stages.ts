// The stage gate (doc/jobs.md, Rollout): a stage closes once none of its executions is PENDING or
// IN_PROGRESS; then its success rate opens the next stage, pauses the job for a human, or — after
// the last stage — completes the job.
import { Prisma } from '../../generated/prisma/client.ts';
import type { Tx } from '../../platform/database.ts';
import { recordAudit } from '../../platform/audit/audit-writer.ts';
import { jobEvent } from './job-events.ts';
import { executionOpen, jobCanApply, jobTarget } from './job-lifecycle.ts';
import { SYSTEM, type JobRow } from './job-row.ts';
import { emptyCounts, stageBoundary, stagesOf, successPercent, type ExecutionCounts } from './job-rules.ts';

/** Whether any execution below `boundary` is still PENDING or IN_PROGRESS: stops at the first one found. */
async function stageOpen(tx: Tx, jobId: string, boundary: number): Promise<boolean> {
  const [row] = await tx.$queryRaw<{ open: boolean }[]>`
    SELECT EXISTS (SELECT 1 FROM job_executions WHERE job_id = ${jobId}::uuid AND ${Prisma.raw(executionOpen())} AND seq < ${boundary}) AS open`;
  return row!.open;
}

/**
 * Closes finished stages, one after the other (a stage that passes opens the next in the same
 * tick); `job` follows (current_stage, status). Leaves the job IN_PROGRESS when hand-out may go on.
 */
export async function advanceStages(tx: Tx, job: JobRow, counts: ExecutionCounts): Promise<void> {
  for (let guard = 0; guard <= stagesOf(job.rollout).length && jobCanApply('stage_advance', job.status) && (await closeStage(tx, job, counts)); guard++) {
    if (await stageOpen(tx, job.id, stageBoundary(job.rollout, job.current_stage, job.target_count))) break;
  }
}

/** Closes the current stage when nothing of it is open; returns whether hand-out may go on. */
async function closeStage(tx: Tx, job: JobRow, counts: ExecutionCounts): Promise<boolean> {
  const stages = stagesOf(job.rollout);
  const boundary = stageBoundary(job.rollout, job.current_stage, job.target_count);
  if (await stageOpen(tx, job.id, boundary)) return true;
  if (job.current_stage >= stages.length - 1) {
    if (counts.PENDING + counts.IN_PROGRESS > 0) return true;
    await tx.$executeRaw`UPDATE jobs SET status = ${jobTarget('complete')}::job_status, status_reason = NULL, updated_at = now() WHERE id = ${job.id}::uuid`;
    await recordAudit(tx, { organizationId: job.organization_id, actor: SYSTEM, action: 'job.complete', targetType: 'job', targetId: job.id, details: { progress: counts } });
    await jobEvent(tx, job, 'job.completed', { progress: counts });
    job.status = jobTarget('complete');
    return false;
  }
  const from = stageBoundary(job.rollout, job.current_stage - 1, job.target_count);
  const rows = await tx.$queryRaw<{ status: keyof ExecutionCounts; n: number }[]>`
    SELECT status::text AS status, count(*)::int AS n FROM job_executions
     WHERE job_id = ${job.id}::uuid AND seq >= ${from} AND seq < ${boundary} GROUP BY status`;
  const stageCounts = emptyCounts();
  for (const row of rows) stageCounts[row.status] = row.n;
  const rate = successPercent(stageCounts);
  const needed = stages[job.current_stage]!.minSuccessPercent;
  const passed = rate >= needed;
  const stageNo = job.current_stage + 1;
  job.current_stage += 1;
  if (passed) {
    await tx.$executeRaw`UPDATE jobs SET current_stage = ${job.current_stage}, updated_at = now() WHERE id = ${job.id}::uuid`;
    await recordAudit(tx, { organizationId: job.organization_id, actor: SYSTEM, action: 'job.stage.advance', targetType: 'job', targetId: job.id, details: { stage: stageNo, successPercent: rate, needed } });
    await jobEvent(tx, job, 'job.stage_advanced', { stage: stageNo, successPercent: rate, needed });
    return true;
  }
  const reason = `stage ${stageNo} reached ${rate.toFixed(1)} % success, below its ${needed} %: resume to start stage ${stageNo + 1}`;
  await tx.$executeRaw`UPDATE jobs SET current_stage = ${job.current_stage}, status = ${jobTarget('stage_pause')}::job_status, status_reason = ${reason}, updated_at = now() WHERE id = ${job.id}::uuid`;
  await recordAudit(tx, { organizationId: job.organization_id, actor: SYSTEM, action: 'job.pause', targetType: 'job', targetId: job.id, details: { reason, stage: stageNo, successPercent: rate, needed } });
  await jobEvent(tx, job, 'job.paused', { reason, stage: stageNo });
  job.status = jobTarget('stage_pause');
  return false;
}
