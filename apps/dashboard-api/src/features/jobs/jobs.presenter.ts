// A job and its executions as the API shows them (jobView, executionView in jobs.schemas.ts).
import type { Job, JobExecution } from '../../generated/prisma/client.ts';
import type { JobSpec } from './job-row.ts';
import type { ExecutionView, JobView } from './jobs.schemas.ts';

export function present(job: Job, progress: JobView['progress']): JobView {
  return {
    id: job.id,
    name: job.name,
    status: job.status,
    statusReason: job.statusReason,
    operation: job.operation,
    spec: publicSpec(job.spec as JobSpec),
    firmwareImageId: job.firmwareImageId,
    selector: job.selector,
    rollout: job.rollout,
    abortRules: job.abortRules,
    executionTimeoutSeconds: job.executionTimeoutSeconds,
    requireSigned: job.requireSigned,
    currentStage: job.currentStage,
    targetCount: job.targetCount,
    progress,
    startAt: job.startAt.toISOString(),
    deadline: job.deadline.toISOString(),
    startedAt: job.startedAt?.toISOString() ?? null,
    finishedAt: job.finishedAt?.toISOString() ?? null,
    createdAt: job.createdAt.toISOString(),
  };
}

/** The spec without the resolved selector terms (the selector text is shown instead). */
function publicSpec(spec: JobSpec) {
  const { selectorTerms: _terms, ...rest } = spec;
  return rest;
}

export function presentExecution(e: JobExecution): ExecutionView {
  return { dongleId: e.dongleId, seq: e.seq, status: e.status, reason: e.reason, commandId: e.commandId, dispatchedAt: e.dispatchedAt?.toISOString() ?? null, finishedAt: e.finishedAt?.toISOString() ?? null };
}
