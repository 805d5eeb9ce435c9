// Fleet jobs, the operator side: create (targets checked now, resolved when the job starts),
// read with progress, list executions, pause, resume, cancel. Only the organization's jobs;
// another organization's job is a 404. Every action is audited in its transaction; the scheduler
// (job-scheduler.ts) does the rest.
import { Prisma, type Job } from '../../generated/prisma/client.ts';
import type { Database } from '../../platform/database.ts';
import { inIdOrder, pageFrom, pageIds, type ListQuery, type Page } from '../../platform/pagination.ts';
import { AppError, conflict, notFound, unprocessable } from '../../platform/errors.ts';
import { recordAudit, type RequestContext } from '../../platform/audit/audit-writer.ts';
import type { OrgScope } from '../organizations/org-scope.ts';
import { toStored } from '../can-config/can-config.service.ts';
import { jobEvent } from './job-events.ts';
import { countExecutions, type JobSpec } from './job-row.ts';
import { stopJob } from './job-stop.ts';
import { jobCanApply, jobTarget } from './job-lifecycle.ts';
import { emptyCounts } from './job-rules.ts';
import { present, presentExecution } from './jobs.presenter.ts';
import type { CreateJobBody, ExecutionStatus, ExecutionsQuery, ExecutionView, JobView } from './jobs.schemas.ts';

const DAY_MS = 86_400_000;

export function createJobsService(deps: { db: Database }) {
  const { prisma } = deps.db;

  async function create(scope: OrgScope, body: CreateJobBody, context: RequestContext): Promise<JobView> {
    const startAt = body.startAt ? new Date(body.startAt) : new Date();
    const deadline = body.deadline ? new Date(body.deadline) : new Date(startAt.getTime() + DAY_MS);
    if (deadline <= startAt || deadline.getTime() - startAt.getTime() > 30 * DAY_MS) {
      throw unprocessable('The request is not valid.', [{ path: 'body.deadline', message: 'deadline must be after startAt and at most 30 days after it.' }]);
    }
    const spec: JobSpec = {};
    const op = body.operation;
    if (op.type === 'COMMAND') spec.command = { type: op.command.type, payload: op.command.payload };
    if (op.type === 'CAN_CONFIG') spec.config = toStored(op.config);
    if ('dongleIds' in body.targets) spec.dongleIds = [...new Set(body.targets.dongleIds)];
    else spec.selectorTerms = body.targets.selector.terms;

    const job = await prisma.$transaction(async (tx) => {
      if (spec.dongleIds) {
        const owned = await tx.dongle.count({ where: { id: { in: spec.dongleIds }, organizationId: scope.orgId } });
        if (owned !== spec.dongleIds.length) throw notFound('Dongle');
      }
      if (op.type === 'FIRMWARE_UPDATE') {
        const image = await tx.firmwareImage.findFirst({ where: { id: op.imageId, organizationId: scope.orgId }, select: { signature: true } });
        if (!image) throw notFound('Firmware image');
        if (body.requireSigned && !image.signature) throw new AppError(422, 'image_not_signed', 'This job requires a signed image; upload one with a signature.');
      }
      const created = await tx.job.create({
        data: {
          organizationId: scope.orgId,
          createdByUserId: scope.userId,
          name: body.name ?? null,
          operation: op.type,
          spec: spec as object,
          firmwareImageId: op.type === 'FIRMWARE_UPDATE' ? op.imageId : null,
          selector: 'selector' in body.targets ? body.targets.selector.text : null,
          rollout: body.rollout,
          abortRules: body.abortRules,
          executionTimeoutSeconds: body.executionTimeoutSeconds,
          requireSigned: body.requireSigned,
          startAt,
          deadline,
        },
      });
      await recordAudit(tx, {
        actor: { type: 'user', id: scope.userId },
        action: 'job.create',
        targetType: 'job',
        targetId: created.id,
        details: { operation: op.type, commandType: spec.command?.type ?? null, firmwareImageId: created.firmwareImageId, selector: created.selector, explicitTargets: spec.dongleIds?.length ?? null, rollout: body.rollout, abortRules: body.abortRules },
        context,
      });
      await jobEvent(tx, { id: created.id, organization_id: created.organizationId }, 'job.created', { operation: op.type, name: created.name, selector: created.selector });
      return created;
    });
    return present(job, await progressOf(job.id));
  }

  async function progressOf(jobId: string) {
    return prisma.$transaction((tx) => countExecutions(tx, jobId));
  }

  async function own(scope: OrgScope, id: string): Promise<Job> {
    const job = await prisma.job.findFirst({ where: { id, organizationId: scope.orgId } });
    if (!job) throw notFound('Job');
    return job;
  }

  async function get(scope: OrgScope, id: string): Promise<JobView> {
    const job = await own(scope, id);
    return present(job, await progressOf(id));
  }

  /** One page of the organization's jobs, newest first, with their progress. */
  async function list(scope: OrgScope, query: ListQuery): Promise<Page<JobView>> {
    const { ids, nextCursor } = await pageIds(prisma, 'jobs', Prisma.sql`organization_id = ${scope.orgId}::uuid`, query);
    const [jobs, counts] = await Promise.all([
      prisma.job.findMany({ where: { id: { in: ids } } }),
      prisma.$queryRaw<{ job_id: string; status: ExecutionStatus; n: number }[]>`
        SELECT job_id::text AS job_id, status::text AS status, n FROM job_execution_counts WHERE job_id = ANY(${ids}::uuid[])`,
    ]);
    const progress = new Map(ids.map((id) => [id, emptyCounts()]));
    for (const row of counts) progress.get(row.job_id)![row.status] = row.n;
    return { items: inIdOrder(ids, jobs).map((job) => present(job, progress.get(job.id)!)), nextCursor };
  }

  /** A job's executions in hand-out order (seq ascending), one page after `query.cursor`. */
  async function executions(scope: OrgScope, id: string, query: ExecutionsQuery): Promise<Page<ExecutionView>> {
    await own(scope, id);
    const rows = await prisma.jobExecution.findMany({
      where: { jobId: id, ...(query.cursor === undefined ? {} : { seq: { gt: query.cursor } }), ...(query.status ? { status: query.status } : {}) },
      orderBy: { seq: 'asc' },
      take: query.limit + 1,
    });
    return pageFrom(rows, query.limit, presentExecution, (row) => [String(row.seq)]);
  }

  /** Locks the organization's job (waits for a scheduler tick holding it) and applies `action`. */
  async function act(scope: OrgScope, id: string, context: RequestContext, action: 'pause' | 'resume' | 'cancel'): Promise<JobView> {
    await prisma.$transaction(async (tx) => {
      const [job] = await tx.$queryRaw<{ status: Job['status']; started_at: Date | null; organization_id: string }[]>`
        SELECT status::text AS status, started_at, organization_id::text AS organization_id FROM jobs WHERE id = ${id}::uuid AND organization_id = ${scope.orgId}::uuid FOR UPDATE`;
      if (!job) throw notFound('Job');
      const actor = { type: 'user', id: scope.userId } as const;
      const refuse = () => conflict('invalid_job_state', `A ${job.status} job cannot be ${action === 'pause' ? 'paused' : action === 'resume' ? 'resumed' : 'cancelled'}.`);
      // A job paused before it started goes back to waiting for its startAt.
      const transition = action === 'resume' && !job.started_at ? 'resume_unstarted' : action;
      if (!jobCanApply(transition, job.status)) throw refuse();
      if (transition === 'cancel') {
        await stopJob(tx, { id, organization_id: job.organization_id }, 'cancel', 'cancelled by a member', actor, context);
        return;
      }
      const to = jobTarget(transition);
      // A resumed job earns hand-out credit from now, not for the time it was paused.
      await tx.$executeRaw`
        UPDATE jobs SET status = ${to}::job_status, status_reason = ${action === 'pause' ? 'paused by a member' : null},
               last_dispatch_at = CASE WHEN ${action === 'resume'} THEN now() ELSE last_dispatch_at END, updated_at = now()
         WHERE id = ${id}::uuid`;
      await recordAudit(tx, { actor, action: `job.${action}`, targetType: 'job', targetId: id, details: { from: job.status, to }, context });
      await jobEvent(tx, { id, organization_id: job.organization_id }, action === 'pause' ? 'job.paused' : 'job.resumed', { from: job.status, to });
    }, { timeout: 60_000, maxWait: 10_000 });
    return get(scope, id);
  }

  return {
    create,
    get,
    list,
    executions,
    pause: (scope: OrgScope, id: string, context: RequestContext) => act(scope, id, context, 'pause'),
    resume: (scope: OrgScope, id: string, context: RequestContext) => act(scope, id, context, 'resume'),
    cancel: (scope: OrgScope, id: string, context: RequestContext) => act(scope, id, context, 'cancel'),
  };
}

export type JobsService = ReturnType<typeof createJobsService>;
