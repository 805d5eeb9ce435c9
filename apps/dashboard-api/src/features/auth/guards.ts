// The guards behind each auth mode of the API router (platform/http/api-router.ts):
//   public   – anyone (cross-site checks still apply to state changes)
//   session  – a logged-in, active user; state changes need the CSRF token
//   verified – session + a verified email
//   admin    – session + role admin (a denial is audited)
//   agent    – a desktop agent's bearer token
// Role and status come from the database on every request, so a demotion or suspension takes
// effect on the caller's next request. The organization part of a `permission` chain (API key,
// membership, role) is the organizations feature's (org-scope.ts), handed in by app.ts.
import type { RequestHandler } from 'express';
import type { Guards } from '../../platform/http/api-router.ts';
import type { Permission } from '../../platform/http/openapi.ts';
import { run, type Database } from '../../platform/database.ts';
import { forbidden, unauthorized } from '../../platform/errors.ts';
import { safeEqual, sha256Hex } from '../../platform/secrets.ts';
import { recordAudit, requestContext } from '../../platform/audit/audit-writer.ts';
import { accountSuspended, isActiveUser } from './user-status.ts';
import { AGENT_AUTH, SESSION_USER } from './auth.sql.ts';

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Refuses state-changing requests a browser marks as cross-site, or whose Origin is not ours
 * or an allowed CORS origin. Agents (no Origin, no Sec-Fetch-Site) pass.
 */
export function refuseCrossSite(allowedOrigins: string[]): RequestHandler {
  const allowed = new Set(allowedOrigins);
  return (req, _res, next) => {
    if (!STATE_CHANGING.has(req.method)) return next();
    if (req.get('sec-fetch-site') === 'cross-site') return next(forbidden('cross_site_request', 'Cross-site requests are not allowed.'));
    const origin = req.get('origin');
    if (origin && origin !== 'null') {
      const own = `${req.protocol}://${req.get('host')}`;
      if (origin !== own && !allowed.has(origin)) return next(forbidden('cross_site_request', 'Requests from this origin are not allowed.'));
    } else if (origin === 'null') {
      return next(forbidden('cross_site_request', 'Requests from an opaque origin are not allowed.'));
    }
    next();
  };
}

/** The organization guards (createOrgGuards in features/organizations/org-scope.ts). */
export interface OrganizationGuards {
  /** Authenticates an API key (`Authorization: Bearer fk_…`) when one is sent. */
  apiKey: RequestHandler;
  /** After authentication: resolves the organization and checks the role holds `permission`. */
  requirePermission(permission: Permission): RequestHandler;
}

export function createGuards(db: Database, org: OrganizationGuards): Guards {
  const loadUser: RequestHandler = async (req, res, next) => {
    // Already authenticated by an API key (organization routes only): no session involved.
    if (res.locals.apiKey) return next();
    const userId = req.session?.userId;
    if (!userId) return next(unauthorized());
    // Read on every dashboard request (role and status take effect at once), so a prepared
    // statement on the pool rather than a Prisma query (auth.sql.ts; bench/dongle-list.bench.ts).
    const [user] = await run(db.pool, SESSION_USER, [userId]);
    if (!user) {
      req.session.destroy(() => next(unauthorized()));
      return;
    }
    if (!isActiveUser(user)) return next(accountSuspended());
    res.locals.user = user;
    res.locals.userId = user.id;
    next();
  };

  const requireCsrf: RequestHandler = (req, res, next) => {
    // A browser never sends an API key by itself, so a key request needs no CSRF token.
    if (!STATE_CHANGING.has(req.method) || res.locals.apiKey) return next();
    const sent = req.get('x-csrf-token');
    const expected = req.session?.csrfToken;
    if (!sent || !expected || !safeEqual(sent, expected)) return next(forbidden('csrf_failed', 'Missing or invalid X-CSRF-Token header.'));
    next();
  };

  const requireVerified: RequestHandler = (_req, res, next) => {
    if (!res.locals.user?.emailVerifiedAt) return next(forbidden('email_unverified', 'Verify your email address first.'));
    next();
  };

  const requireAdmin: RequestHandler = async (req, res, next) => {
    const user = res.locals.user!;
    if (user.role === 'admin') return next();
    await db.prisma.$transaction((tx) =>
      recordAudit(tx, {
        actor: { type: 'user', id: user.id },
        action: 'admin.access_denied',
        result: 'denied',
        details: { method: req.method, path: req.baseUrl + req.path },
        context: requestContext(req),
      }),
    );
    next(forbidden('forbidden', 'Administrator role required.'));
  };

  const requireAgent: RequestHandler = async (req, res, next) => {
    const header = req.get('authorization') ?? '';
    // The scheme name is case-insensitive (RFC 9110 §11.1): "bearer", "BEARER" are the same.
    const match = /^bearer +([A-Za-z0-9_-]{20,200})$/i.exec(header);
    if (!match) return next(unauthorized('A valid agent bearer token is required.'));
    // Every agent request passes here, so it is one prepared join rather than Prisma's nested
    // lookup (measured in bench/agent-poll.bench.ts: ~0.2 ms of CPU against 1.4–2.9 ms).
    const [agent] = await run(db.pool, AGENT_AUTH, [sha256Hex(match[1]!)]);
    if (!agent) return next(unauthorized('A valid agent bearer token is required.'));
    res.locals.agent = agent;
    res.locals.agentId = agent.id;
    next();
  };

  const session = [loadUser, requireCsrf];
  const modes = {
    public: [],
    session,
    verified: [...session, requireVerified],
    admin: [...session, requireAdmin],
    agent: [requireAgent],
  };
  return {
    ...modes,
    // Organization routes: an API key or the session, then membership and role.
    permission: (auth, permission) => [org.apiKey, ...modes[auth], org.requirePermission(permission)],
  };
}
