import type { Request, Response } from 'express';
import type { Config } from '../../config.ts';
import type { Database } from '../../platform/database.ts';
import { unauthorized } from '../../platform/errors.ts';
import type { ApiRouter } from '../../platform/http/api-router.ts';
import { clientIp, rateLimit } from '../../platform/rate-limit.ts';
import { generateSecret } from '../../platform/secrets.ts';
import { requestContext, userAgentOf } from '../../platform/audit/audit-writer.ts';
import {
  acceptedView,
  loginBody,
  passwordResetConfirmBody,
  passwordResetRequestBody,
  sessionView,
  signupBody,
  signupView,
  verifiedView,
  verifyEmailBody,
} from './auth.schemas.ts';
import type { AuthService } from './auth.service.ts';
import { currentUser } from './principal.ts';
import { sessionCookieName } from './session.ts';
import { presentUser } from './user.presenter.ts';
import { isActiveUser } from './user-status.ts';

const promisify = (fn: (cb: (error?: unknown) => void) => void) => new Promise<void>((resolve, reject) => fn((error) => (error ? reject(error) : resolve())));

/** Starts a fresh session for `userId`: regenerate (new id, fixation-safe), fill, save, then answer. */
export async function startSession(req: Request, userId: string): Promise<string> {
  await promisify((cb) => req.session.regenerate(cb));
  const csrfToken = generateSecret();
  Object.assign(req.session, { userId, csrfToken, createdAt: Date.now(), ip: req.ip ?? null, userAgent: userAgentOf(req) });
  await promisify((cb) => req.session.save(cb));
  return csrfToken;
}

export const destroySession = (req: Request) => promisify((cb) => req.session.destroy(cb));

export const RESET_REQUESTED = 'If an account exists for that address, we have emailed it a link to reset the password.';
const SIGNED_UP = 'Check your inbox: we have emailed you a link to verify your address.';

export function mountAuthRoutes(api: ApiRouter, deps: { auth: AuthService; db: Database; config: Pick<Config, 'tls' | 'rateLimits'> }) {
  const { auth, config } = deps;
  const perIp = (name: string, rule: { limit: number; windowSeconds: number }) => rateLimit(deps.db, { name, ...rule, key: clientIp });

  api.post(
    '/signup',
    {
      summary: 'Create an unverified account and email a verification link',
      description: 'Answers the same for an address that already has an account (that address is emailed instead).',
      tags: ['auth'],
      auth: 'public',
      body: signupBody,
      responses: { 201: { description: 'Account created (or already existing); verification email queued', schema: signupView }, 429: { description: 'rate_limited' } },
    },
    perIp('signup-ip', config.rateLimits.signupIp),
    async (req, res) => {
      await auth.signup(res.locals.body.email, res.locals.body.password, requestContext(req));
      res.status(201).json({ email: res.locals.body.email, message: SIGNED_UP });
    },
  );

  api.post(
    '/verify-email',
    { summary: 'Redeem an email verification token', tags: ['auth'], auth: 'public', body: verifyEmailBody, responses: { 200: { description: 'Verified', schema: verifiedView }, 400: { description: 'invalid_token' } } },
    perIp('verify-ip', config.rateLimits.verifyIp),
    async (req, res) => {
      await auth.verifyEmail(res.locals.body.token, requestContext(req));
      res.json({ emailVerified: true });
    },
  );

  api.post(
    '/login',
    {
      summary: 'Log in with email and password; sets the session cookie',
      tags: ['auth'],
      auth: 'public',
      body: loginBody,
      responses: {
        200: { description: 'Logged in', schema: sessionView },
        401: { description: 'invalid_credentials' },
        403: { description: 'account_suspended' },
        429: { description: 'rate_limited (per account or per IP), with Retry-After' },
      },
    },
    perIp('login-ip', config.rateLimits.loginIp),
    async (req, res) => {
      const { email, password } = res.locals.body;
      const user = await auth.authenticate(email, password, requestContext(req));
      const csrfToken = await startSession(req, user.id);
      res.json({ user: presentUser(user), csrfToken });
    },
  );

  api.post(
    '/logout',
    { summary: 'End the current session', tags: ['auth'], auth: 'session', responses: { 204: { description: 'Logged out; the session row is gone' } } },
    async (req, res: Response) => {
      const user = currentUser(res);
      await destroySession(req);
      await auth.recordLogout(user.id, requestContext(req));
      res.clearCookie(sessionCookieName({ tls: config.tls }), { path: '/', httpOnly: true, sameSite: 'lax', secure: config.tls });
      res.status(204).end();
    },
  );

  api.get(
    '/session',
    { summary: 'The current user and CSRF token', tags: ['auth'], auth: 'public', responses: { 200: { description: 'Logged in', schema: sessionView }, 401: { description: 'No session' } } },
    async (req, res) => {
      const userId = req.session?.userId;
      const user = userId ? await deps.db.prisma.user.findUnique({ where: { id: userId } }) : null;
      if (!user || !isActiveUser(user)) throw unauthorized();
      res.json({ user: presentUser(user), csrfToken: req.session.csrfToken });
    },
  );

  api.post(
    '/password-reset/request',
    {
      summary: 'Email a password reset link',
      description: 'Always 202 with the same body, whether or not the address has an account. Works during a login lockout.',
      tags: ['auth'],
      auth: 'public',
      body: passwordResetRequestBody,
      responses: { 202: { description: 'Accepted', schema: acceptedView }, 429: { description: 'rate_limited' } },
    },
    perIp('reset-ip', config.rateLimits.resetIp),
    (req, res) => {
      auth.requestPasswordReset(res.locals.body.email, requestContext(req));
      res.status(202).json({ message: RESET_REQUESTED });
    },
  );

  api.post(
    '/password-reset/confirm',
    {
      summary: 'Set a new password with a reset token; ends every session of the account',
      tags: ['auth'],
      auth: 'public',
      body: passwordResetConfirmBody,
      responses: { 204: { description: 'Password changed' }, 400: { description: 'invalid_token' }, 422: { description: 'Password policy' } },
    },
    perIp('reset-confirm-ip', config.rateLimits.verifyIp),
    async (req, res) => {
      await auth.confirmPasswordReset(res.locals.body.token, res.locals.body.password, requestContext(req));
      res.status(204).end();
    },
  );
}
