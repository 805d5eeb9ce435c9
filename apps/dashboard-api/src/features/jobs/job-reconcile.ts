// IN_PROGRESS executions follow their command (EXECUTION_OF_COMMAND in job-rules.ts). Firmware
// succeeds only when the dongle reports the target version (the agent's SUCCEEDED alone is not
// enough) within the timeout. A command that expired unpicked (the dongle went offline) was never
// delivered: the execution goes back to PENDING and is handed out again when the dongle returns,
// until the deadline; then it is TIMED_OUT like every execution still PENDING.
import { Prisma } from '../../generated/prisma/client.ts';
import { sql, type Tx } from '../../platform/database.ts';
import { overdueSql, statusIs } from '../commands/command-lifecycle.ts';
import { bulkExecutionEvent, executionEvents, type ExecutionChange } from './job-events.ts';
import { executionInto, executionIs, executionTarget, executionTo } from './job-lifecycle.ts';
import type { JobRow } from './job-row.ts';
import { EXECUTION_OF_COMMAND } from './job-rules.ts';

const text = (value: string) => `'${value.replaceAll("'", "''")}'`;
const outcomes = Object.entries(EXECUTION_OF_COMMAND);
const requeued = text(executionTarget('requeue'));
/** Still QUEUED but past expires_at: as good as EXPIRED (the sweeper marks it so soon). */
const overdueQueued = `(${statusIs('expire', 'c.status')} AND ${overdueSql('expire', 'c')})`;

// $1 firmware job, $2 the image's version, $3 the execution timeout (s), $4 the job.
const RECONCILE_SQL = `
WITH judged AS (
  SELECT e.id,
    CASE
      WHEN $1::boolean AND c.status IN ('DELIVERED', 'SUCCEEDED') AND d.firmware_version = $2::text THEN ${text(EXECUTION_OF_COMMAND.SUCCEEDED.execution)}
      WHEN NOT $1::boolean AND c.status = 'SUCCEEDED' THEN ${text(EXECUTION_OF_COMMAND.SUCCEEDED.execution)}
      ${outcomes
        .filter(([status]) => status !== 'SUCCEEDED')
        .map(([status, to]) => `WHEN c.status = ${text(status)}${status === 'EXPIRED' ? ` OR ${overdueQueued}` : ''} THEN ${text(to.execution)}`)
        .join('\n      ')}
      WHEN c.status IN ('DELIVERED', 'SUCCEEDED') AND c.delivered_at + make_interval(secs => $3::int) <= now()
        THEN CASE WHEN c.status = 'SUCCEEDED' THEN ${text(executionInto('follow_command', 'FAILED'))} ELSE ${text(executionInto('follow_command', 'TIMED_OUT'))} END
    END AS next,
    CASE
      ${outcomes
        .filter(([, to]) => to.reason !== null)
        .map(([status, to]) => `WHEN c.status = ${text(status)} THEN ${to.commandError ? `coalesce(c.error, ${text(to.reason!)})` : text(to.reason!)}`)
        .join('\n      ')}
      WHEN c.status = 'SUCCEEDED' AND $1::boolean THEN 'the dongle did not report version ' || $2::text || ' within the timeout (reports ' || coalesce(d.firmware_version, 'nothing') || ')'
      WHEN c.status = 'DELIVERED' THEN 'no result within the execution timeout'
    END AS why
    FROM job_executions e
    JOIN commands c ON c.id = e.command_id
    JOIN dongles d ON d.id = e.dongle_id
   WHERE e.job_id = $4::uuid AND ${executionIs('follow_command', 'e.status')}
)
UPDATE job_executions e
   SET status = judged.next::execution_status,
       reason = CASE WHEN judged.next IN (${text(executionInto('follow_command', 'SUCCEEDED'))}, ${requeued}) THEN NULL ELSE judged.why END,
       command_id = CASE WHEN judged.next = ${requeued} THEN NULL ELSE e.command_id END,
       dispatched_at = CASE WHEN judged.next = ${requeued} THEN NULL ELSE e.dispatched_at END,
       finished_at = CASE WHEN judged.next = ${requeued} THEN NULL ELSE now() END,
       updated_at = now()
  FROM judged
 WHERE e.id = judged.id AND judged.next IS NOT NULL
RETURNING e.id::text AS id, e.dongle_id::text AS dongle_id, e.status::text AS status, e.reason`;

export async function reconcile(tx: Tx, job: JobRow, targetVersion: string | null): Promise<void> {
  const changed = await sql<ExecutionChange>(tx, RECONCILE_SQL, [job.operation === 'FIRMWARE_UPDATE', targetVersion, job.execution_timeout_seconds, job.id]);
  await executionEvents(tx, job, changed);
}

const NOT_REACHED = 'the dongle was not reachable before the job deadline';

/** Past the job's deadline, what is still PENDING will not be handed out: TIMED_OUT. */
export async function timeOutPending(tx: Tx, job: JobRow): Promise<void> {
  const late = await tx.$executeRaw`
    UPDATE job_executions SET status = ${Prisma.raw(executionTo('miss_deadline'))}, reason = ${NOT_REACHED}, finished_at = now(), updated_at = now()
     WHERE job_id = ${job.id}::uuid AND ${Prisma.raw(executionIs('miss_deadline'))}`;
  await bulkExecutionEvent(tx, job, executionTarget('miss_deadline'), late, NOT_REACHED);
}
