// The organization guard's statements, on the bare pg pool: every organization request reads
// the caller's membership (or its API key) before anything else, so they are prepared
// statements rather than Prisma queries (bench/dongle-list.bench.ts). The guard and the bench
// baseline (bench/baseline/server.ts) import them from here.
import type { ApiKeyScope, OrgRole } from '../../generated/prisma/enums.ts';
import { statement } from '../../platform/database.ts';
import type { SessionUser } from '../auth/principal.ts';

/** An API key, its user and the user's current membership in the key's organization. */
export interface ApiKeyRow {
  id: string;
  organizationId: string;
  scope: ApiKeyScope;
  memberRole: OrgRole;
  userId: string;
  email: SessionUser['email'];
  userRole: SessionUser['role'];
  status: SessionUser['status'];
  emailVerifiedAt: SessionUser['emailVerifiedAt'];
}

/** The key, its user and the user's current membership in the key's organization, in one read (parameter: the key's SHA-256). */
export const API_KEY = statement<[keyHash: string], ApiKeyRow>(
  `
  SELECT k.id::text AS id, k.organization_id::text AS "organizationId", k.scope::text AS scope, m.role::text AS "memberRole",
         u.id::text AS "userId", u.email, u.role::text AS "userRole", u.status::text AS status, u.email_verified_at AS "emailVerifiedAt"
    FROM api_keys k
    JOIN users u ON u.id = k.user_id
    JOIN memberships m ON m.organization_id = k.organization_id AND m.user_id = k.user_id
   WHERE k.key_hash = $1 AND k.revoked_at IS NULL AND k.expires_at > now()`,
  'api-key-auth',
);

/** A key's last use (parameters: the key, the client's address). */
export const API_KEY_TOUCH = statement<[keyId: string, ip: string], never>(
  'UPDATE api_keys SET last_used_at = now(), last_used_ip = $2 WHERE id = $1::uuid',
  'api-key-touch',
);

/** The caller's membership in the addressed organization, or in their personal one when none is addressed. */
export const MEMBERSHIP = statement<[userId: string, organizationId: string | null], { id: string; role: OrgRole }>(
  `
  SELECT o.id::text AS id, m.role::text AS role
    FROM organizations o
    JOIN memberships m ON m.organization_id = o.id AND m.user_id = $1::uuid
   WHERE CASE WHEN $2::uuid IS NULL THEN o.personal_owner_user_id = $1::uuid ELSE o.id = $2::uuid END`,
  'org-membership',
);
