import type { Config } from '../../config.ts';
import type { Database } from '../../platform/database.ts';
import type { ApiRouter } from '../../platform/http/api-router.ts';
import { listQuery, pageOf } from '../../platform/pagination.ts';
import { clientIp, rateLimit } from '../../platform/rate-limit.ts';
import { requestContext } from '../../platform/audit/audit-writer.ts';
import { currentAgent } from '../auth/principal.ts';
import { currentScope } from '../organizations/org-scope.ts';
import {
  agentIdParams,
  agentView,
  enrollBody,
  enrolledView,
  enrollmentCodeView,
  heartbeatBody,
  heartbeatView,
  renameAgentBody,
  rotatedTokenView,
} from './agents.schemas.ts';
import type { AgentsService } from './agents.service.ts';

const tags = ['agents'];

/** Operator routes under /api/agents. */
export function mountAgentRoutes(api: ApiRouter, deps: { agents: AgentsService }) {
  const { agents } = deps;

  api.post(
    '/enrollment-codes',
    {
      summary: 'Create a one-time agent enrollment code (10 minutes)',
      tags,
      auth: 'verified',
      permission: 'agents.manage',
      responses: { 201: { description: 'The code, shown once', schema: enrollmentCodeView }, 429: { description: 'quota_exceeded: too many unused codes open' } },
    },
    async (req, res) => {
      res.status(201).json(await agents.createEnrollmentCode(currentScope(res), requestContext(req)));
    },
  );

  api.get(
    '/',
    { summary: "The organization's agents, newest first", tags, auth: 'session', permission: 'fleet.read', query: listQuery, responses: { 200: { description: 'A page of agents', schema: pageOf(agentView) } } },
    async (_req, res) => {
      res.json(await agents.list(currentScope(res), res.locals.query));
    },
  );

  api.get(
    '/:id',
    { summary: 'One agent of the organization', tags, auth: 'session', permission: 'fleet.read', params: agentIdParams, responses: { 200: { description: 'The agent', schema: agentView } } },
    async (_req, res) => {
      res.json(await agents.get(currentScope(res), res.locals.params.id));
    },
  );

  api.patch(
    '/:id',
    { summary: 'Rename an agent', tags, auth: 'session', permission: 'agents.manage', params: agentIdParams, body: renameAgentBody, responses: { 200: { description: 'The agent', schema: agentView } } },
    async (req, res) => {
      res.json(await agents.rename(currentScope(res), res.locals.params.id, res.locals.body.name, requestContext(req)));
    },
  );

  api.delete(
    '/:id',
    { summary: 'Delete an agent; its tokens stop working at once', tags, auth: 'session', permission: 'agents.manage', params: agentIdParams, responses: { 204: { description: 'Deleted' } } },
    async (req, res) => {
      await agents.remove(currentScope(res), res.locals.params.id, requestContext(req));
      res.status(204).end();
    },
  );
}

/** Agent API routes under /api/agent: enrollment, heartbeat, token rotation. */
export function mountAgentApiRoutes(api: ApiRouter, deps: { agents: AgentsService; db: Database; config: Config }) {
  const { agents } = deps;

  api.post(
    '/enroll',
    {
      summary: 'Enroll an agent with a one-time code; returns its bearer token once',
      tags,
      auth: 'public',
      body: enrollBody,
      responses: { 201: { description: 'Enrolled', schema: enrolledView }, 400: { description: 'invalid_code' }, 429: { description: 'rate_limited' } },
    },
    rateLimit(deps.db, { name: 'enroll-ip', ...deps.config.rateLimits.enrollIp, key: clientIp }),
    async (req, res) => {
      res.status(201).json(await agents.enroll(res.locals.body, requestContext(req)));
    },
  );

  api.post(
    '/heartbeat',
    { summary: 'Report the agent alive and the dongles it reaches', tags, auth: 'agent', body: heartbeatBody, responses: { 200: { description: 'Recorded', schema: heartbeatView } } },
    async (req, res) => {
      res.json(await agents.heartbeat(currentAgent(res), res.locals.body, requestContext(req)));
    },
  );

  api.post(
    '/token/rotate',
    { summary: 'Replace this agent token; the old one stops working at once', tags, auth: 'agent', responses: { 200: { description: 'The new token, shown once', schema: rotatedTokenView } } },
    async (req, res) => {
      res.json(await agents.rotateToken(currentAgent(res), requestContext(req)));
    },
  );
}
