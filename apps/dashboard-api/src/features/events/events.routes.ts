// GET /api/orgs/:orgId/events (keyset list) and GET /api/orgs/:orgId/events/stream (SSE).
// Both need `fleet.read` (every member; API keys with any scope): a member sees every event of
// the organization, and nothing of any other (doc/events.md).
import type { ApiRouter } from '../../platform/http/api-router.ts';
import { tooManyRequests, unprocessable } from '../../platform/errors.ts';
import { currentScope } from '../organizations/org-scope.ts';
import type { EventHub } from './event-hub.ts';
import { serveEventStream, type StreamOptions } from './event-stream.ts';
import { eventListQuery, eventPage, orgParams, streamQuery } from './events.schemas.ts';
import type { EventsService } from './events.service.ts';
import type { Database } from '../../platform/database.ts';

const tags = ['events'];

export interface EventRouteDeps {
  db: Database;
  events: EventsService;
  hub: EventHub;
  stream: StreamOptions & { perUser: number };
  /** Aborted at shutdown: open streams end. */
  signal: AbortSignal;
}

export function mountEventRoutes(api: ApiRouter, deps: EventRouteDeps) {
  // Open streams per user on this instance (the cap is per instance; doc/events.md).
  const open = new Map<string, number>();

  api.get(
    '/:orgId/events',
    {
      summary: "The organization's events, newest first (filters: type, subjectType, subjectId)",
      tags,
      auth: 'session',
      permission: 'fleet.read',
      params: orgParams,
      query: eventListQuery,
      responses: { 200: { description: 'A page of events', schema: eventPage } },
    },
    async (_req, res) => {
      res.json(await deps.events.list(currentScope(res).orgId, res.locals.query));
    },
  );

  api.get(
    '/:orgId/events/stream',
    {
      summary: 'Server-Sent Events of the organization; resume with Last-Event-ID or ?lastEventId=',
      description:
        'text/event-stream. Each event: `id:` (event id), `event:` (type), `data:` (JSON as in the list). `: heartbeat` comments keep it alive; `event: resync` means reload state (resume id pruned, or the client read too slowly). 429 beyond the per-user stream cap.',
      tags,
      auth: 'session',
      permission: 'fleet.read',
      params: orgParams,
      query: streamQuery,
      responses: { 200: { description: 'An event stream (text/event-stream)' }, 429: { description: 'Too many open streams for this user' } },
    },
    async (req, res) => {
      const scope = currentScope(res);
      const header = req.get('last-event-id');
      if (header !== undefined && !/^\d{1,19}$/.test(header)) {
        throw unprocessable('The request is not valid.', [{ path: 'headers.last-event-id', message: 'must be an event id' }]);
      }
      const resumeFrom = header ?? res.locals.query.lastEventId;
      const count = open.get(scope.userId) ?? 0;
      if (count >= deps.stream.perUser) throw tooManyRequests(30, `At most ${deps.stream.perUser} open event streams per user.`);
      open.set(scope.userId, count + 1);
      res.on('close', () => {
        const left = (open.get(scope.userId) ?? 1) - 1;
        if (left <= 0) open.delete(scope.userId);
        else open.set(scope.userId, left);
      });
      const sessionId = scope.apiKeyId ? null : (req.sessionID ?? null);
      await serveEventStream({ db: deps.db, hub: deps.hub, options: deps.stream, signal: deps.signal }, req, res, {
        orgId: scope.orgId,
        userId: scope.userId,
        stillAllowed: () => deps.events.stillAllowed({ orgId: scope.orgId, userId: scope.userId, sessionId, apiKeyId: scope.apiKeyId }),
      }, resumeFrom ? BigInt(resumeFrom) : null);
    },
  );
}
