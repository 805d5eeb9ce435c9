import type { Request } from 'express';
import type { ApiRouter } from '../../platform/http/api-router.ts';
import { AppError, unprocessable } from '../../platform/errors.ts';
import { requestContext } from '../../platform/audit/audit-writer.ts';
import { currentScope } from '../organizations/org-scope.ts';
import { dongleIdParams } from '../dongles/dongles.schemas.ts';
import { canConfigInputSchema } from './can-config.schema.ts';
import type { CanConfigService } from './can-config.service.ts';
import { canConfigPutView, canConfigView } from './can-config.views.ts';

const tags = ['can-config'];

/**
 * If-Match carries the version: `3`, or as an entity tag `"3"` / `W/"3"` (what ETag sends).
 * Missing: 428, so a client cannot overwrite blindly. Not a version: 422.
 */
export function expectedVersion(req: Request): number {
  const header = req.get('if-match');
  if (header === undefined) throw new AppError(428, 'precondition_required', 'Send If-Match with the version you last read (0 before the first change).');
  const match = /^\s*(?:W\/)?"?(\d{1,9})"?\s*$/.exec(header);
  if (!match) throw unprocessable('The request is not valid.', [{ path: 'headers.if-match', message: 'If-Match must be the configuration version, e.g. 3 or "3".' }]);
  return Number(match[1]);
}

const etag = (version: number) => `"${version}"`;

/** Routes under /api/dongles. */
export function mountCanConfigRoutes(api: ApiRouter, deps: { canConfig: CanConfigService }) {
  api.get(
    '/:id/can-config',
    {
      summary: "A dongle's CAN configuration (the defaults with version 0 until first set)",
      tags,
      auth: 'session',
      permission: 'fleet.read',
      params: dongleIdParams,
      responses: { 200: { description: 'The configuration; ETag carries the version', schema: canConfigView } },
    },
    async (_req, res) => {
      const config = await deps.canConfig.get(currentScope(res), res.locals.params.id);
      res.set('ETag', etag(config.version)).json(config);
    },
  );

  api.put(
    '/:id/can-config',
    {
      summary: 'Replace the CAN configuration and queue APPLY_CAN_CONFIG',
      description: 'Needs If-Match with the current version (428 without, 412 on mismatch). The dongle must be CLAIMED_ACTIVE.',
      tags,
      auth: 'session',
      permission: 'fleet.operate',
      params: dongleIdParams,
      body: canConfigInputSchema,
      headers: { 'If-Match': { description: 'The version last read', required: true } },
      responses: {
        200: { description: 'Stored; version bumped; the apply command queued', schema: canConfigPutView },
        409: { description: 'dongle_not_active' },
        412: { description: 'precondition_failed: the version changed' },
        428: { description: 'precondition_required: If-Match missing' },
      },
    },
    async (req, res) => {
      const version = expectedVersion(req);
      const saved = await deps.canConfig.put(currentScope(res), res.locals.params.id, version, res.locals.body, requestContext(req));
      res.set('ETag', etag(saved.version)).json(saved);
    },
  );
}
