import type { Config } from '../../config.ts';
import type { ApiRouter } from '../../platform/http/api-router.ts';
import { requestContext } from '../../platform/audit/audit-writer.ts';
import { destroySession } from '../auth/auth.routes.ts';
import { currentUser } from '../auth/principal.ts';
import { sessionCookieName } from '../auth/session.ts';
import { changePasswordBody, revokedView, sessionPage, sessionParams, sessionsQuery } from './me.schemas.ts';
import type { MeService } from './me.service.ts';

export function mountMeRoutes(api: ApiRouter, deps: { me: MeService; config: Pick<Config, 'tls'> }) {
  const { me } = deps;

  api.post(
    '/password',
    {
      summary: 'Change the password (needs the current one); ends every other session',
      tags: ['me'],
      auth: 'session',
      body: changePasswordBody,
      responses: { 204: { description: 'Changed' }, 403: { description: 'invalid_current_password' }, 422: { description: 'Password policy' }, 429: { description: 'rate_limited' } },
    },
    async (req, res) => {
      await me.changePassword(currentUser(res), req.sessionID, res.locals.body.currentPassword, res.locals.body.newPassword, requestContext(req));
      res.status(204).end();
    },
  );

  api.get(
    '/sessions',
    { summary: 'My live sessions, newest first; the current one is marked', tags: ['me'], auth: 'session', query: sessionsQuery, responses: { 200: { description: 'A page of sessions', schema: sessionPage } } },
    async (req, res) => {
      res.json(await me.listSessions(currentUser(res), req.sessionID, res.locals.query));
    },
  );

  api.delete(
    '/sessions/:id',
    { summary: 'End one of my sessions', tags: ['me'], auth: 'session', params: sessionParams, responses: { 204: { description: 'Ended' }, 404: { description: 'No such session of mine' } } },
    async (req, res) => {
      const { wasCurrent } = await me.revokeSession(currentUser(res), req.sessionID, res.locals.params.id, requestContext(req));
      if (wasCurrent) {
        await destroySession(req);
        res.clearCookie(sessionCookieName(deps.config), { path: '/', httpOnly: true, sameSite: 'lax', secure: deps.config.tls });
      }
      res.status(204).end();
    },
  );

  api.post(
    '/sessions/revoke-others',
    { summary: 'End every session but this one', tags: ['me'], auth: 'session', responses: { 200: { description: 'How many ended', schema: revokedView } } },
    async (req, res) => {
      res.json({ revoked: await me.revokeOtherSessions(currentUser(res), req.sessionID, requestContext(req)) });
    },
  );
}
