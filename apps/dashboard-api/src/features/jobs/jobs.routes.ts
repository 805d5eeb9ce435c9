// Job routes under /api/jobs (doc/jobs.md).
import type { Config } from '../../config.ts';
import type { Database } from '../../platform/database.ts';
import type { ApiRouter } from '../../platform/http/api-router.ts';
import type { Lifecycle } from '../../platform/lifecycle.ts';
import type { Logger } from '../../platform/logger.ts';
import { requestContext } from '../../platform/audit/audit-writer.ts';
import { currentScope } from '../organizations/org-scope.ts';
import { createJobScheduler } from './job-scheduler.ts';
import { listQuery } from '../../platform/pagination.ts';
import { createJobBody, executionPage, executionsQuery, jobIdParams, jobPage, jobView } from './jobs.schemas.ts';
import { createJobsService, type JobsService } from './jobs.service.ts';

const tags = ['jobs'];

/** The jobs service, with its scheduler worker added to the lifecycle (the routes: mountJobRoutes). */
export function setupJobs(deps: { config: Config; db: Database; logger: Logger; lifecycle: Lifecycle }) {
  const jobs = createJobsService({ db: deps.db });
  deps.lifecycle.addWorker(createJobScheduler({ db: deps.db, logger: deps.logger, tickMs: deps.config.jobs.tickMs }));
  return jobs;
}

export function mountJobRoutes(api: ApiRouter, deps: { jobs: JobsService }) {
  const { jobs } = deps;
  api.post(
    '/',
    {
      summary: 'Create a job: one operation over explicit dongles or a tag selector',
      description: 'Targets are checked now (explicit ids must all be dongles of the organization) and resolved into executions when the job starts (startAt, default now).',
      tags,
      auth: 'verified',
      permission: 'fleet.operate',
      body: createJobBody,
      responses: { 201: { description: 'The job, SCHEDULED: the scheduler starts it at startAt (at once when none)', schema: jobView }, 404: { description: 'A dongle or image not in the organization' }, 422: { description: 'Invalid body or selector; image_not_signed' } },
    },
    async (req, res) => {
      res.status(201).json(await jobs.create(currentScope(res), res.locals.body, requestContext(req)));
    },
  );

  api.get('/', { summary: "The organization's jobs, newest first", tags, auth: 'session', permission: 'fleet.read', query: listQuery, responses: { 200: { description: 'A page of jobs', schema: jobPage } } }, async (_req, res) => {
    res.json(await jobs.list(currentScope(res), res.locals.query));
  });

  api.get('/:id', { summary: 'One job with its progress per execution state', tags, auth: 'session', permission: 'fleet.read', params: jobIdParams, responses: { 200: { description: 'The job', schema: jobView }, 404: { description: 'No such job in the organization' } } }, async (_req, res) => {
    res.json(await jobs.get(currentScope(res), res.locals.params.id));
  });

  api.get(
    '/:id/executions',
    { summary: "A job's executions in hand-out order", tags, auth: 'session', permission: 'fleet.read', params: jobIdParams, query: executionsQuery, responses: { 200: { description: 'One page', schema: executionPage }, 404: { description: 'No such job in the organization' } } },
    async (_req, res) => {
      res.json(await jobs.executions(currentScope(res), res.locals.params.id, res.locals.query));
    },
  );

  for (const action of ['pause', 'resume', 'cancel'] as const) {
    api.post(
      `/:id/${action}`,
      {
        summary: { pause: 'Pause: nothing new is handed out; what is in flight finishes', resume: 'Resume a paused job (after a stage gate: starts the next stage)', cancel: 'Cancel: PENDING executions and QUEUED commands are cancelled' }[action],
        tags,
        auth: 'session',
        permission: 'fleet.operate',
        params: jobIdParams,
        responses: { 200: { description: 'The job', schema: jobView }, 404: { description: 'No such job in the organization' }, 409: { description: 'invalid_job_state' } },
      },
      async (req, res) => {
        res.json(await jobs[action](currentScope(res), res.locals.params.id, requestContext(req)));
      },
    );
  }
}
