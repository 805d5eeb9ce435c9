import type { Request, Response } from 'express';
import type { ApiRouter } from '../../platform/http/api-router.ts';
import { unauthorized } from '../../platform/errors.ts';
import { generateSecret } from '../../platform/secrets.ts';
import type { Database } from '../../platform/database.ts';
import { requestContext } from '../audit/audit.writer.ts';
import { loginBody, sessionView } from './auth.schemas.ts';
import type { AuthService } from './auth.service.ts';
import { currentUser } from './principal.ts';
import { presentUser } from './user.presenter.ts';
import { sessionCookieName } from './session.ts';

const promisify = (fn: (cb: (error?: unknown) => void) => void) => new Promise<void>((resolve, reject) => fn((error) => (error ? reject(error) : resolve())));

/** Starts a fresh session for `userId`: regenerate (new id, fixation-safe), fill, save, then answer. */
export async function startSession(req: Request, userId: string): Promise<string> {
  await promisify((cb) => req.session.regenerate(cb));
  const csrfToken = generateSecret();
  Object.assign(req.session, { userId, csrfToken, createdAt: Date.now(), ip: req.ip ?? null, userAgent: req.get('user-agent')?.slice(0, 512) ?? null });
  await promisify((cb) => req.session.save(cb));
  return csrfToken;
}

export function mountAuthRoutes(api: ApiRouter, deps: { auth: AuthService; db: Database; tls: boolean }) {
  api.post(
    '/login',
    {
      summary: 'Log in with email and password; sets the session cookie',
      tags: ['auth'],
      auth: 'public',
      body: loginBody,
      responses: { 200: { description: 'Logged in', schema: sessionView }, 401: { description: 'invalid_credentials' }, 403: { description: 'account_suspended' } },
    },
    async (req, res) => {
      const { email, password } = res.locals.body;
      const user = await deps.auth.authenticate(email, password, requestContext(req));
      const csrfToken = await startSession(req, user.id);
      res.json({ user: presentUser(user), csrfToken });
    },
  );

  api.post(
    '/logout',
    { summary: 'End the current session', tags: ['auth'], auth: 'session', responses: { 204: { description: 'Logged out; the session row is gone' } } },
    async (req, res: Response) => {
      const user = currentUser(res);
      await promisify((cb) => req.session.destroy(cb));
      await deps.auth.recordLogout(user.id, requestContext(req));
      res.clearCookie(sessionCookieName({ tls: deps.tls }), { path: '/', httpOnly: true, sameSite: 'lax', secure: deps.tls });
      res.status(204).end();
    },
  );

  api.get(
    '/session',
    { summary: 'The current user and CSRF token', tags: ['auth'], auth: 'public', responses: { 200: { description: 'Logged in', schema: sessionView }, 401: { description: 'No session' } } },
    async (req, res) => {
      const userId = req.session?.userId;
      const user = userId ? await deps.db.prisma.user.findUnique({ where: { id: userId } }) : null;
      if (!user || user.status !== 'active') throw unauthorized();
      res.json({ user: presentUser(user), csrfToken: req.session.csrfToken });
    },
  );
}

