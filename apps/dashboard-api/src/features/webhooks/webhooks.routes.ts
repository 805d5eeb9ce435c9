// /api/orgs/:orgId/webhooks: an organization's webhooks (admins: `members.manage`).
import { z } from 'zod';
import type { ApiRouter } from '../../platform/http/api-router.ts';
import { requestContext } from '../../platform/audit/audit-writer.ts';
import { currentScope } from '../organizations/org-scope.ts';
import {
  createWebhookBody,
  deliveriesQuery,
  deliveryView,
  orgParams,
  rotateSecretBody,
  updateWebhookBody,
  webhookParams,
  webhookView,
  webhookWithSecret,
} from './webhooks.schemas.ts';
import type { WebhooksService } from './webhooks.service.ts';

const tags = ['webhooks'];
const auth = 'session' as const;
const permission = 'members.manage' as const;

export function mountWebhookRoutes(api: ApiRouter, deps: { webhooks: WebhooksService }) {
  const { webhooks } = deps;

  api.post('/:orgId/webhooks', { summary: 'Create a webhook; its signing secret is shown once', tags, auth, permission, params: orgParams, body: createWebhookBody, responses: { 201: { description: 'The webhook and its secret', schema: webhookWithSecret } } }, async (req, res) => {
    res.status(201).json(await webhooks.create(currentScope(res), res.locals.body, requestContext(req)));
  });

  api.get('/:orgId/webhooks', { summary: "The organization's webhooks", tags, auth, permission, params: orgParams, responses: { 200: { description: 'Webhooks', schema: z.object({ items: z.array(webhookView) }) } } }, async (_req, res) => {
    res.json({ items: await webhooks.list(currentScope(res)) });
  });

  api.get('/:orgId/webhooks/:webhookId', { summary: 'One webhook', tags, auth, permission, params: webhookParams, responses: { 200: { description: 'The webhook', schema: webhookView } } }, async (_req, res) => {
    res.json(await webhooks.get(currentScope(res), res.locals.params.webhookId));
  });

  api.patch('/:orgId/webhooks/:webhookId', { summary: 'Change url, event types, description; enable or disable', tags, auth, permission, params: webhookParams, body: updateWebhookBody, responses: { 200: { description: 'The webhook', schema: webhookView } } }, async (req, res) => {
    res.json(await webhooks.update(currentScope(res), res.locals.params.webhookId, res.locals.body, requestContext(req)));
  });

  api.delete('/:orgId/webhooks/:webhookId', { summary: 'Delete a webhook and its delivery log', tags, auth, permission, params: webhookParams, responses: { 204: { description: 'Deleted' } } }, async (req, res) => {
    await webhooks.remove(currentScope(res), res.locals.params.webhookId, requestContext(req));
    res.status(204).end();
  });

  api.post('/:orgId/webhooks/:webhookId/rotate-secret', { summary: 'New signing secret (shown once); the old one keeps signing through the overlap window', tags, auth, permission, params: webhookParams, body: rotateSecretBody, responses: { 200: { description: 'The webhook and its new secret', schema: webhookWithSecret } } }, async (req, res) => {
    res.json(await webhooks.rotateSecret(currentScope(res), res.locals.params.webhookId, res.locals.body.overlapSeconds, requestContext(req)));
  });

  api.post('/:orgId/webhooks/:webhookId/test', { summary: 'Queue a signed webhook.test message (see the delivery log)', tags, auth, permission, params: webhookParams, responses: { 202: { description: 'Queued', schema: z.object({ deliveryId: z.string() }) } } }, async (req, res) => {
    res.status(202).json(await webhooks.test(currentScope(res), res.locals.params.webhookId, requestContext(req)));
  });

  api.get('/:orgId/webhooks/:webhookId/deliveries', { summary: 'The delivery log, newest first: each attempt with status code, duration and the first kilobyte of the response', tags, auth, permission, params: webhookParams, query: deliveriesQuery, responses: { 200: { description: 'Deliveries', schema: z.object({ items: z.array(deliveryView) }) } } }, async (_req, res) => {
    res.json({ items: await webhooks.deliveries(currentScope(res), res.locals.params.webhookId, res.locals.query.limit) });
  });
}
