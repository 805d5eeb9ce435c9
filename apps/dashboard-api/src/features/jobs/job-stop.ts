// Stopping a job (ABORTED by an abort rule, CANCELLED by a member): nothing more is handed out,
// PENDING executions are cancelled, and the job's still QUEUED commands are cancelled through the
// command lifecycle's one bulk cancel (commands/command-queue.ts: each with its command.cancelled
// event and command.cancel audit row), their executions with them. DELIVERED ones finish.
import { Prisma } from '../../generated/prisma/client.ts';
import type { Tx } from '../../platform/database.ts';
import { recordAudit, type RequestContext } from '../../platform/audit/audit-writer.ts';
import { CANCEL_TEXT, cancelQueued } from '../commands/command-queue.ts';
import { bulkExecutionEvent, jobEvent } from './job-events.ts';
import { executionIs, executionTarget, executionTo, jobTarget } from './job-lifecycle.ts';
import type { SYSTEM } from './job-row.ts';
import { EXECUTION_OF_COMMAND } from './job-rules.ts';

export async function stopJob(
  tx: Tx,
  job: { id: string; organization_id: string },
  transition: 'abort' | 'cancel',
  reason: string,
  actor: { type: 'user'; id: string } | typeof SYSTEM,
  context?: RequestContext,
): Promise<void> {
  const status = jobTarget(transition);
  await tx.$executeRaw`UPDATE jobs SET status = ${status}::job_status, status_reason = ${reason}, updated_at = now() WHERE id = ${job.id}::uuid`;
  const cause = transition === 'abort' ? 'job_aborted' : 'job_cancelled';
  const cancelled = await cancelQueued(tx, { jobId: job.id }, { actor, reason: cause, context });
  // The cancelled commands' error text is their executions' reason (as reconcile would give them).
  const note = CANCEL_TEXT[cause];
  const pending = await tx.$executeRaw`
    UPDATE job_executions SET status = ${Prisma.raw(executionTo('cancel'))}, reason = ${note}, finished_at = now(), updated_at = now()
     WHERE job_id = ${job.id}::uuid AND ${Prisma.raw(executionIs('cancel'))}`;
  const followed = await tx.$executeRaw`
    UPDATE job_executions SET status = ${EXECUTION_OF_COMMAND.CANCELLED.execution}::execution_status, reason = ${note}, finished_at = now(), updated_at = now()
     WHERE job_id = ${job.id}::uuid AND ${Prisma.raw(executionIs('follow_command'))} AND command_id = ANY(${cancelled.map((c) => c.id)}::uuid[])`;
  await jobEvent(tx, job, transition === 'abort' ? 'job.aborted' : 'job.cancelled', { reason });
  await bulkExecutionEvent(tx, job, executionTarget('cancel'), pending + followed, note);
  await recordAudit(tx, {
    organizationId: job.organization_id,
    actor,
    action: transition === 'abort' ? 'job.abort' : 'job.cancel',
    targetType: 'job',
    targetId: job.id,
    details: { reason, pendingCancelled: pending, queuedCommandsCancelled: cancelled.length },
    context,
  });
}
