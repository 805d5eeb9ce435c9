// A due SCHEDULED job starts: its targets are resolved now into job_executions (seq = hand-out
// order) and kept; firmware targets whose reported hardware does not match are SKIPPED at once.
import { Prisma } from '../../generated/prisma/client.ts';
import type { Tx } from '../../platform/database.ts';
import { recordAudit } from '../../platform/audit/audit-writer.ts';
import { selectorSql } from '../dongles/tag-selector.ts';
import { bulkExecutionEvent, jobEvent } from './job-events.ts';
import { executionTarget, executionTo, jobTarget } from './job-lifecycle.ts';
import { SYSTEM, type JobRow } from './job-row.ts';
import { creditCap } from './job-rules.ts';

/** start (SCHEDULED → IN_PROGRESS; start_empty → COMPLETED when nothing matched): the target list is resolved now and kept as the executions. */
export async function startJob(tx: Tx, job: JobRow): Promise<void> {
  let inserted: number;
  if (job.spec.dongleIds) {
    inserted = await tx.$executeRawUnsafe(
      `INSERT INTO job_executions (job_id, dongle_id, seq)
       SELECT $1::uuid, d.id, (row_number() OVER (ORDER BY t.ord) - 1)::int
         FROM unnest($3::uuid[]) WITH ORDINALITY AS t(id, ord) JOIN dongles d ON d.id = t.id
        WHERE d.organization_id = $2::uuid
       ON CONFLICT DO NOTHING`,
      job.id, job.organization_id, job.spec.dongleIds,
    );
  } else {
    const compiled = selectorSql(job.spec.selectorTerms ?? [], 'd', 3);
    inserted = await tx.$executeRawUnsafe(
      `INSERT INTO job_executions (job_id, dongle_id, seq)
       SELECT $1::uuid, d.id, (row_number() OVER (ORDER BY d.created_at, d.id) - 1)::int
         FROM dongles d WHERE d.organization_id = $2::uuid AND ${compiled.sql}`,
      job.id, job.organization_id, ...compiled.params,
    );
  }
  let skipped = 0;
  if (job.operation === 'FIRMWARE_UPDATE') {
    // Known mismatches are skipped at once; unreported hardware is checked again at hand-out.
    skipped = await tx.$executeRaw`
      UPDATE job_executions e SET status = ${Prisma.raw(executionTo('skip'))}, finished_at = now(), updated_at = now(),
             reason = 'reported hardware ' || coalesce(d.chip_family, '?') || '/' || coalesce(d.board_revision, '?') || ' does not match the image target ' || i.chip_family || '/' || i.board_revision
        FROM dongles d, firmware_images i
       WHERE e.job_id = ${job.id}::uuid AND d.id = e.dongle_id AND i.id = ${job.firmware_image_id}::uuid
         AND ((d.chip_family IS NOT NULL AND d.chip_family <> i.chip_family) OR (d.board_revision IS NOT NULL AND d.board_revision <> i.board_revision))`;
  }
  const done = inserted === 0;
  await tx.$executeRaw`
    UPDATE jobs SET status = ${jobTarget(done ? 'start_empty' : 'start')}::job_status, target_count = ${inserted}, started_at = now(),
           status_reason = ${done ? 'no dongle matched the targets' : null}, finished_at = ${done ? new Date() : null},
           dispatch_credit = ${Math.min(creditCap(job.rollout.maxPerMinute), job.rollout.maxPerMinute / 60)}, last_dispatch_at = now(), updated_at = now()
     WHERE id = ${job.id}::uuid`;
  await jobEvent(tx, job, 'job.started', { targetCount: inserted });
  await bulkExecutionEvent(tx, job, executionTarget('skip'), skipped, 'reported hardware does not match the image target');
  if (done) await jobEvent(tx, job, 'job.completed', { reason: 'no dongle matched the targets' });
  await recordAudit(tx, { organizationId: job.organization_id, actor: SYSTEM, action: 'job.start', targetType: 'job', targetId: job.id, details: { targetCount: inserted } });
  if (done) await recordAudit(tx, { organizationId: job.organization_id, actor: SYSTEM, action: 'job.complete', targetType: 'job', targetId: job.id, details: { reason: 'no dongle matched the targets' } });
}
