// A job as the scheduler reads it (its row, locked for one tick) and its execution counters.
import type { Job } from '../../generated/prisma/client.ts';
import type { TableRow, Tx } from '../../platform/database.ts';
import type { StoredCanConfig } from '../can-config/can-config.presenter.ts';
import type { SelectorTerm } from '../dongles/tag-selector.ts';
import { emptyCounts, type ExecutionCounts } from './job-rules.ts';
import type { AbortRule, Rollout } from './jobs.schemas.ts';

/** The actor of everything the scheduler does on its own. */
export const SYSTEM = { type: 'system' } as const;

/** The jobs row (its JSON columns typed), with three values computed by the database clock. */
export type JobRow = Pick<
  TableRow<Job>,
  'id' | 'organization_id' | 'created_by_user_id' | 'operation' | 'firmware_image_id' | 'selector' | 'execution_timeout_seconds' | 'status' | 'current_stage' | 'target_count' | 'dispatch_credit'
> & {
  spec: JobSpec;
  rollout: Rollout;
  abort_rules: AbortRule[];
  /** Seconds since last_dispatch_at. */
  elapsed: number;
  past_deadline: boolean;
  /** start_at has come (the job was due when locked, not only when the tick listed it). */
  start_due: boolean;
};

export interface JobSpec {
  command?: { type: string; payload: unknown };
  config?: StoredCanConfig;
  dongleIds?: string[];
  selectorTerms?: SelectorTerm[];
}

/** The unfinished job `jobId`, locked for this transaction; undefined when another instance holds it. */
export async function lockUnfinishedJob(tx: Tx, jobId: string): Promise<JobRow | undefined> {
  const [job] = await tx.$queryRaw<JobRow[]>`
    SELECT id, organization_id, created_by_user_id, operation::text AS operation, spec, firmware_image_id, selector, rollout, abort_rules, execution_timeout_seconds,
           status::text AS status, current_stage, target_count, dispatch_credit,
           extract(epoch FROM now() - coalesce(last_dispatch_at, now()))::float8 AS elapsed, deadline <= now() AS past_deadline,
           start_at <= now() AS start_due
      FROM jobs WHERE id = ${jobId}::uuid AND finished_at IS NULL
       FOR UPDATE SKIP LOCKED`;
  return job;
}

/**
 * A job's executions per state, from job_execution_counts (kept by triggers on job_executions,
 * doc/database.md): one primary-key range read, whatever the number of targets. Counting the
 * executions themselves cost a tick 0.1–0.2 s at 100,000 targets (doc/benchmarks.md).
 */
export async function countExecutions(tx: Tx, jobId: string): Promise<ExecutionCounts> {
  const rows = await tx.$queryRaw<{ status: keyof ExecutionCounts; n: number }[]>`
    SELECT status::text AS status, n FROM job_execution_counts WHERE job_id = ${jobId}::uuid`;
  const counts = emptyCounts();
  for (const row of rows) counts[row.status] = row.n;
  return counts;
}
