import type { ApiRouter } from '../../platform/http/api-router.ts';
import { pageOf } from '../../platform/pagination.ts';
import { requestContext } from '../../platform/audit/audit-writer.ts';
import { currentAgent, currentUser } from '../auth/principal.ts';
import { currentScope } from '../organizations/org-scope.ts';
import type { DongleTokensService } from './dongle-tokens.service.ts';
import { claimBody, deviceIdParams, dongleListQuery, dongleAckView, dongleIdParams, dongleTokenView, dongleView, renameDongleBody } from './dongles.schemas.ts';
import type { DonglesService } from './dongles.service.ts';

const tags = ['dongles'];

/** Operator routes under /api/dongles. */
export function mountDongleRoutes(api: ApiRouter, deps: { dongles: DonglesService }) {
  const { dongles } = deps;

  api.get(
    '/',
    {
      summary: 'My dongles, newest first, optionally filtered by a tag selector',
      description: 'selector: comma-separated terms that must all hold — `key=value`, `key!=value`, `key` (exists), `!key` (absent). A malformed selector is a 422 with one detail per bad term.',
      tags,
      auth: 'session',
      permission: 'fleet.read',
      query: dongleListQuery,
      responses: { 200: { description: 'A page of dongles', schema: pageOf(dongleView) }, 422: { description: 'Malformed selector' } },
    },
    async (_req, res) => {
      res.json(await dongles.list(currentScope(res), res.locals.query));
    },
  );

  api.post(
    '/claim',
    {
      summary: 'Claim a dongle one of my agents reports (proof of possession)',
      description: '404 unless one of your agents reported the dongle in the last 5 minutes; 409 when it is already claimed and you could know it exists.',
      tags,
      auth: 'verified',
      permission: 'fleet.operate',
      body: claimBody,
      responses: { 202: { description: 'CLAIM_PENDING: the agent now exchanges the token', schema: dongleView }, 404: { description: 'not_found' }, 409: { description: 'dongle_already_claimed' } },
    },
    async (req, res) => {
      res.status(202).json(await dongles.claim(currentScope(res), res.locals.body.deviceId, requestContext(req)));
    },
  );

  api.get(
    '/:id',
    { summary: 'One of my dongles', tags, auth: 'session', permission: 'fleet.read', params: dongleIdParams, responses: { 200: { description: 'The dongle', schema: dongleView } } },
    async (_req, res) => {
      res.json(await dongles.get(currentScope(res), res.locals.params.id));
    },
  );

  api.patch(
    '/:id',
    { summary: 'Rename a dongle (null clears the name)', tags, auth: 'session', permission: 'fleet.operate', params: dongleIdParams, body: renameDongleBody, responses: { 200: { description: 'The dongle', schema: dongleView } } },
    async (req, res) => {
      res.json(await dongles.rename(currentScope(res), res.locals.params.id, res.locals.body.name, requestContext(req)));
    },
  );

  api.post(
    '/:id/release',
    {
      summary: 'Release a dongle: RELEASE_PENDING until its agent confirms the wipe; it leaves its group now',
      tags,
      auth: 'session',
      permission: 'fleet.operate',
      params: dongleIdParams,
      responses: { 202: { description: 'RELEASE_PENDING', schema: dongleView }, 409: { description: 'invalid_state' } },
    },
    async (req, res) => {
      res.status(202).json(await dongles.release(currentScope(res), res.locals.params.id, requestContext(req)));
    },
  );
}

/** Admin routes under /api/admin. */
export function mountDongleAdminRoutes(api: ApiRouter, deps: { dongles: DonglesService }) {
  api.post(
    '/dongles/:id/force-release',
    {
      summary: 'Force-release a dongle: UNCLAIMED at once; token, group and configuration destroyed',
      tags: ['admin', ...tags],
      auth: 'admin',
      params: dongleIdParams,
      responses: { 200: { description: 'UNCLAIMED', schema: dongleView }, 409: { description: 'invalid_state: already UNCLAIMED' } },
    },
    async (req, res) => {
      res.json(await deps.dongles.forceRelease(currentUser(res), res.locals.params.id, requestContext(req)));
    },
  );
}

/** Agent API routes under /api/agent: the token exchange and the two acknowledgements. */
export function mountDongleAgentRoutes(api: ApiRouter, deps: { tokens: DongleTokensService }) {
  const { tokens } = deps;

  api.post(
    '/dongles/:deviceId/token',
    {
      summary: "Token exchange: the dongle's secret, to the owner's agent that reports it",
      description: 'Only while CLAIM_PENDING or CLAIMED_ACTIVE, and only to the agent whose heartbeat reported the dongle last, within 5 minutes.',
      tags,
      auth: 'agent',
      params: deviceIdParams,
      responses: { 200: { description: 'The token (64 hex characters), in plaintext', schema: dongleTokenView }, 404: { description: 'not_found' }, 409: { description: 'invalid_state or dongle_not_reported' } },
    },
    async (req, res) => {
      res.json(await tokens.exchange(currentAgent(res), res.locals.params.deviceId, requestContext(req)));
    },
  );

  api.post(
    '/dongles/:deviceId/token/ack',
    { summary: 'The dongle stored its token: CLAIM_PENDING → CLAIMED_ACTIVE', tags, auth: 'agent', params: deviceIdParams, responses: { 200: { description: 'CLAIMED_ACTIVE', schema: dongleAckView } } },
    async (req, res) => {
      res.json(await tokens.ackToken(currentAgent(res), res.locals.params.deviceId, requestContext(req)));
    },
  );

  api.post(
    '/dongles/:deviceId/release/ack',
    { summary: 'The dongle wiped its token: RELEASE_PENDING → UNCLAIMED', tags, auth: 'agent', params: deviceIdParams, responses: { 200: { description: 'UNCLAIMED', schema: dongleAckView } } },
    async (req, res) => {
      res.json(await tokens.ackRelease(currentAgent(res), res.locals.params.deviceId, requestContext(req)));
    },
  );
}
