// The pure parts of a job (doc/jobs.md): stage boundaries, stage success, abort rules, the
// hand-out token bucket, and what an execution becomes when its command finishes. The scheduler
// feeds them counts and statuses from the database.
import type { CommandStatus } from '../../generated/prisma/enums.ts';
import type { AbortRule, ExecutionStatus, Rollout } from './jobs.schemas.ts';

export type ExecutionCounts = Record<ExecutionStatus, number>;

export const emptyCounts = (): ExecutionCounts => ({ PENDING: 0, IN_PROGRESS: 0, SUCCEEDED: 0, FAILED: 0, TIMED_OUT: 0, SKIPPED: 0, CANCELLED: 0 });

/** Without stages a job is one stage of 100 % that needs no success rate. */
export function stagesOf(rollout: Rollout) {
  return rollout.stages.length > 0 ? rollout.stages : [{ percent: 100, minSuccessPercent: 0 }];
}

/** Executions with seq below this belong to stages 0..stage (the last stage ends at the target count). */
export function stageBoundary(rollout: Rollout, stage: number, targetCount: number): number {
  const stages = stagesOf(rollout);
  if (stage >= stages.length - 1) return targetCount;
  if (stage < 0) return 0;
  return Math.min(targetCount, Math.ceil((stages[stage]!.percent * targetCount) / 100));
}

/** Succeeded over finished-and-executed (SKIPPED and CANCELLED do not count); 100 when none. */
export function successPercent(counts: Pick<ExecutionCounts, 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT'>): number {
  const executed = counts.SUCCEEDED + counts.FAILED + counts.TIMED_OUT;
  return executed === 0 ? 100 : (counts.SUCCEEDED * 100) / executed;
}

/** The first abort rule the counts cross, with a sentence saying how, or undefined. */
export function crossedAbortRule(rules: AbortRule[], counts: ExecutionCounts): { rule: AbortRule; reason: string } | undefined {
  const executed = counts.SUCCEEDED + counts.FAILED + counts.TIMED_OUT;
  for (const rule of rules) {
    if (executed < rule.minExecuted) continue;
    const failures = rule.failureType === 'ANY' ? counts.FAILED + counts.TIMED_OUT : counts[rule.failureType];
    const percent = (failures * 100) / executed;
    if (percent >= rule.thresholdPercent) {
      return { rule, reason: `abort rule crossed: ${failures} of ${executed} executed (${percent.toFixed(1)} %) ${rule.failureType === 'ANY' ? 'failed or timed out' : rule.failureType}, threshold ${rule.thresholdPercent} %` };
    }
  }
  return undefined;
}

/** Burst allowance of the hand-out rate: five seconds' worth (at least one). */
export const creditCap = (maxPerMinute: number) => Math.max(1, (maxPerMinute * 5) / 60);

/** Token bucket: credit earned since the last hand-out, capped. */
export function refill(credit: number, maxPerMinute: number, elapsedSeconds: number): number {
  return Math.min(creditCap(maxPerMinute), credit + (maxPerMinute * Math.max(0, elapsedSeconds)) / 60);
}

/**
 * What an IN_PROGRESS execution becomes when its command reaches a status — the command
 * lifecycle (commands/command-lifecycle.ts) seen from the job, read by the scheduler's reconcile
 * and by a job stopping. `reason`: the execution's reason; `commandError`: the command's own
 * error text comes first when it has one. QUEUED and DELIVERED commands are still in flight
 * (their clocks decide: job-reconcile.ts); SUCCEEDED for firmware needs the version report too.
 */
export const EXECUTION_OF_COMMAND = {
  SUCCEEDED: { execution: 'SUCCEEDED', reason: null, commandError: false },
  FAILED: { execution: 'FAILED', reason: 'the agent reported a failure', commandError: true },
  TIMED_OUT: { execution: 'TIMED_OUT', reason: 'no result within the command timeout', commandError: false },
  CANCELLED: { execution: 'CANCELLED', reason: 'command cancelled', commandError: true },
  // Never delivered: it waits to be handed out again (until the deadline), not a second delivery.
  EXPIRED: { execution: 'PENDING', reason: null, commandError: false },
} as const satisfies Partial<Record<CommandStatus, { execution: ExecutionStatus; reason: string | null; commandError: boolean }>>;
