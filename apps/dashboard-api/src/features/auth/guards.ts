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
import type { Database } from '../../platform/database.ts';
import { forbidden, unauthorized } from '../../platform/errors.ts';
import { safeEqual, sha256Hex } from '../../platform/secrets.ts';
import { recordAudit, requestContext } from '../../platform/audit/audit-writer.ts';
import type { AgentPrincipal, SessionUser } from './principal.ts';
import { activeUserSql, isActiveUser } from './user-status.ts';

/** The session guard's user read (exported for the bench baseline, which must run the same SQL). */
export const SESSION_USER_SQL = `SELECT id::text AS id, email, role::text AS role, status::text AS status, email_verified_at AS "emailVerifiedAt"
  FROM users WHERE id = $1::uuid`;

/** The agent guard's token lookup: token, agent and owner in one join. */
export const AGENT_AUTH_SQL = `SELECT t.id AS "tokenId", a.id, a.user_id AS "userId", a.organization_id::text AS "organizationId", a.last_seen_at AS "lastSeenAt", a.version
  FROM agent_tokens t
  JOIN agents a ON a.id = t.agent_id
  JOIN users u ON u.id = a.user_id
 WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND a.revoked_at IS NULL AND ${activeUserSql('u')}`;

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
    // statement on the pool rather than a Prisma query: see bench/dongle-list.bench.ts.
    const { rows } = await db.pool.query<SessionUser>({
      name: 'session-user',
      text: SESSION_USER_SQL,
      values: [userId],
    });
    const user = rows[0] ?? null;
    if (!user) {
      req.session.destroy(() => next(unauthorized()));
      return;
    }
    if (!isActiveUser(user)) return next(forbidden('account_suspended', 'This account is suspended.'));
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
    const { rows } = await db.pool.query<AgentPrincipal>({
      name: 'agent-bearer-auth',
      text: AGENT_AUTH_SQL,
      values: [sha256Hex(match[1]!)],
    });
    const agent = rows[0];
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
