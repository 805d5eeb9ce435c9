// Operator routes: send a command to an own CLAIMED_ACTIVE dongle (Idempotency-Key aware),
// the dongle's history, one command, cancel.
import type { Database } from '../../platform/database.ts';
import type { ApiRouter } from '../../platform/http/api-router.ts';
import { idempotency } from '../../platform/http/idempotency.ts';
import type { Logger } from '../../platform/logger.ts';
import { requestContext } from '../../platform/audit/audit-writer.ts';
import { currentScope } from '../organizations/org-scope.ts';
import { commandPage, commandView, presentCommand } from './command.presenter.ts';
import { createCommandBody, idParams, listQuery } from './commands.schemas.ts';
import type { CommandService } from './commands.service.ts';

export function mountCommandRoutes(routers: { dongles: ApiRouter; commands: ApiRouter }, deps: { commands: CommandService; db: Database; logger: Logger; idempotencyKeysPerUser: number }) {
  const { commands } = deps;

  routers.dongles.post(
    '/:id/commands',
    {
      summary: "Send a command to one of the organization's CLAIMED_ACTIVE dongles",
      description: 'An `Idempotency-Key` header makes retries safe: the same key and body replay the first response (24 h); another body with that key is a 422; a duplicate while the first is in flight is a 409.',
      tags: ['commands'],
      auth: 'session',
      permission: 'fleet.operate',
      params: idParams,
      body: createCommandBody,
      headers: { 'Idempotency-Key': { description: 'Client-chosen key, 1–255 visible ASCII characters' } },
      responses: {
        201: { description: 'Queued', schema: commandView },
        404: { description: 'No such dongle in the organization' },
        409: { description: 'dongle_not_active, or idempotency_request_in_flight' },
        422: { description: 'Invalid type or payload (details name the field), or idempotency_key_reused' },
        429: { description: 'quota_exceeded: the dongle holds too many QUEUED commands, or you hold too many Idempotency-Keys' },
      },
    },
    // The only keyed operation, so the per-caller bound is the per-user quota.
    idempotency(deps.db, { operation: 'POST /api/dongles/:id/commands', logger: deps.logger, maxKeysPerCaller: deps.idempotencyKeysPerUser }),
    async (req, res) => {
      const command = await commands.create(currentScope(res), res.locals.params.id, res.locals.body, {
        idempotency: res.locals.idempotency,
        context: requestContext(req),
      });
      res.status(201).json(presentCommand(command));
    },
  );

  routers.dongles.get(
    '/:id/commands',
    {
      summary: "A dongle's commands, newest first",
      tags: ['commands'],
      auth: 'session',
      permission: 'fleet.read',
      params: idParams,
      query: listQuery,
      responses: { 200: { description: 'One page', schema: commandPage }, 404: { description: 'No such dongle in the organization' } },
    },
    async (_req, res) => {
      const page = await commands.listForDongle(currentScope(res), res.locals.params.id, res.locals.query);
      res.json({ items: page.items.map(presentCommand), nextCursor: page.nextCursor });
    },
  );

  routers.commands.get(
    '/:id',
    { summary: 'One command', tags: ['commands'], auth: 'session', permission: 'fleet.read', params: idParams, responses: { 200: { description: 'The command', schema: commandView }, 404: { description: 'No such command in the organization' } } },
    async (_req, res) => {
      res.json(presentCommand(await commands.get(currentScope(res), res.locals.params.id)));
    },
  );

  routers.commands.post(
    '/:id/cancel',
    {
      summary: 'Cancel a command that is still QUEUED',
      tags: ['commands'],
      auth: 'session',
      permission: 'fleet.operate',
      params: idParams,
      responses: { 200: { description: 'Cancelled', schema: commandView }, 404: { description: 'No such command in the organization' }, 409: { description: 'command_not_cancellable' } },
    },
    async (req, res) => {
      res.json(presentCommand(await commands.cancel(currentScope(res), res.locals.params.id, requestContext(req))));
    },
  );
}
