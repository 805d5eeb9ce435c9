// Job and execution changes as live events (issue 13's event log), written in the transaction
// of the change like the audit rows. Per-execution events for the steady flow (hand-out, result,
// skip at hand-out: bounded by maxInFlight and the tick batch); one counting event for the bulk
// transitions (skips at start, deadline, abort, cancel), which can touch every target at once.
import type { JobExecution } from '../../generated/prisma/client.ts';
import type { TableRow, Tx } from '../../platform/database.ts';
import { recordEvent } from '../../platform/events/event-writer.ts';
import type { EventType } from '../../platform/events/event-types.ts';

type JobRef = { id: string; organization_id: string };

export function jobEvent(tx: Tx, job: JobRef, type: Extract<EventType, `job.${string}`>, data: Record<string, unknown> = {}) {
  return recordEvent(tx, { organizationId: job.organization_id, type, subjectId: job.id, data });
}

/** An execution that changed, as its statements return it. */
export type ExecutionChange = Pick<TableRow<JobExecution>, 'id' | 'dongle_id' | 'status' | 'reason'>;

export async function executionEvents(tx: Tx, job: JobRef, changes: ExecutionChange[]): Promise<void> {
  for (const change of changes) {
    await recordEvent(tx, {
      organizationId: job.organization_id,
      type: 'job.execution_updated',
      subjectId: change.id,
      data: { jobId: job.id, dongleId: change.dongle_id, status: change.status, reason: change.reason },
    });
  }
}

export function bulkExecutionEvent(tx: Tx, job: JobRef, status: string, count: number, reason: string) {
  if (count === 0) return Promise.resolve();
  return jobEvent(tx, job, 'job.executions_updated', { status, count, reason });
}
