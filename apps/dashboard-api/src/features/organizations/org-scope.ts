// The organization guard: which organization a request acts in, and with which role.
//
// Addressing rule (doc/organizations.md): `/api/orgs/:orgId/…` acts in that organization; the
// v0.7 routes without an organization act in the caller's personal organization, or, with an
// API key, in the key's organization. A caller who is not a member gets 404 (no existence
// oracle); a member whose role lacks the route's permission gets 403 (audited).
//
// Routes that name a permission also accept `Authorization: Bearer <API key>` instead of the
// session cookie: no CSRF token then (no browser sends it by itself), rate limited per key, and
// the key's power is capped by its user's CURRENT membership, read on every request.
import type { RequestHandler, Response } from 'express';
import type { Config } from '../../config.ts';
import type { ApiKeyScope, OrgRole } from '../../generated/prisma/enums.ts';
import { run, type Database } from '../../platform/database.ts';
import { forbidden, notFound, unauthorized } from '../../platform/errors.ts';
import { assertWithinLimits, clientIp, createRateLimit } from '../../platform/rate-limit.ts';
import { sha256Hex } from '../../platform/secrets.ts';
import { recordAudit, requestContext } from '../../platform/audit/audit-writer.ts';
import { effectiveRole, may, type Permission } from './policy.ts';
import { accountSuspended, isActiveUser } from '../auth/user-status.ts';
import { API_KEY, API_KEY_TOUCH, MEMBERSHIP } from './organizations.sql.ts';

export interface OrgScope {
  orgId: string;
  /** The role the request acts with: the membership's, capped by the API key's scope. */
  role: OrgRole;
  userId: string;
  /** Set when the request authenticated with an API key. */
  apiKeyId: string | null;
}

export interface ApiKeyPrincipal {
  id: string;
  organizationId: string;
  scope: ApiKeyScope;
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Locals {
      org?: OrgScope;
      apiKey?: ApiKeyPrincipal;
    }
  }
}

export function currentScope(res: Response): OrgScope {
  const scope = res.locals.org;
  if (!scope) throw new Error('currentScope() on a route without an organization permission');
  return scope;
}

/** API keys look like `fk_<43 base64url characters>`; agent tokens have no prefix. */
export const API_KEY_PATTERN = /^Bearer (fk_[A-Za-z0-9_-]{20,200})$/;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function createOrgGuards(db: Database, config: Pick<Config, 'rateLimits'>) {
  const perKey = createRateLimit(db, { name: 'api-key', ...config.rateLimits.apiKey });

  /** Authenticates an API key when one is presented; otherwise leaves the request to the session guards. */
  const apiKey: RequestHandler = async (req, res, next) => {
    const match = API_KEY_PATTERN.exec(req.get('authorization') ?? '');
    if (!match) return next();
    const [key] = await run(db.pool, API_KEY, [sha256Hex(match[1]!)]);
    // Unknown, revoked, expired, or its user no longer a member: all the same 401.
    if (!key) return next(unauthorized('A valid API key is required.', 'invalid_api_key'));
    if (!isActiveUser(key)) return next(accountSuspended());
    assertWithinLimits([await perKey.hit(key.id)]);
    await run(db.pool, API_KEY_TOUCH, [key.id, clientIp(req)]);
    res.locals.user = { id: key.userId, email: key.email, role: key.userRole, status: key.status, emailVerifiedAt: key.emailVerifiedAt };
    res.locals.userId = key.userId;
    res.locals.apiKey = { id: key.id, organizationId: key.organizationId, scope: key.scope };
    res.locals.org = { orgId: key.organizationId, role: effectiveRole(key.memberRole, key.scope), userId: key.userId, apiKeyId: key.id };
    next();
  };

  /** After authentication: resolve the organization and check the permission. */
  function requirePermission(permission: Permission): RequestHandler {
    return async (req, res, next) => {
      const user = res.locals.user!;
      const addressed = (req.params as Record<string, string | undefined>).orgId;
      if (addressed !== undefined && !UUID.test(addressed)) return next(notFound('Organization'));
      let scope: OrgScope;
      if (res.locals.apiKey) {
        // A key acts only in its own organization; elsewhere it sees nothing.
        if (addressed !== undefined && addressed !== res.locals.apiKey.organizationId) return next(notFound('Organization'));
        scope = res.locals.org!;
      } else {
        const [membership] = await run(db.pool, MEMBERSHIP, [user.id, addressed ?? null]);
        if (!membership) return next(notFound('Organization'));
        scope = { orgId: membership.id, role: membership.role, userId: user.id, apiKeyId: null };
        res.locals.org = scope;
      }
      if (!may(scope.role, permission)) {
        await db.prisma.$transaction((tx) =>
          recordAudit(tx, {
            actor: { type: 'user', id: user.id },
            action: 'organization.access_denied',
            result: 'denied',
            details: { method: req.method, path: req.baseUrl + req.path, permission, role: scope.role },
            context: requestContext(req),
          }),
        );
        return next(forbidden('forbidden', `Your role in this organization (${scope.role}) may not do this.`));
      }
      next();
    };
  }

  return { apiKey, requirePermission };
}

export type OrgGuards = ReturnType<typeof createOrgGuards>;
