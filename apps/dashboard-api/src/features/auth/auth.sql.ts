// The authentication statements that run on the bare pg pool (doc/architecture.md, "Data
// access"): every request passes a guard, and a login storm competes with argon2 for the cores,
// so these are prepared joins rather than Prisma queries (bench/agent-poll, dongle-list and
// login measure them). The guards, the login repository and the bench baseline
// (bench/baseline/server.ts) import them from here. Each is one typed definition.
import type { User } from '../../generated/prisma/client.ts';
import { AUDIT_COLUMNS, auditValues } from '../../platform/audit/audit-writer.ts';
import { statement } from '../../platform/database.ts';
import type { AgentPrincipal, SessionUser } from './principal.ts';
import { activeUserSql } from './user-status.ts';

/** The session guard's user read, on every dashboard request (role and status take effect at once). */
export const SESSION_USER = statement<[userId: string], SessionUser>(
  `SELECT id::text AS id, email, role::text AS role, status::text AS status, email_verified_at AS "emailVerifiedAt"
  FROM users WHERE id = $1::uuid`,
  'session-user',
);

/** The agent guard's token lookup: token, agent and owner in one join (parameter: the token's SHA-256). */
export const AGENT_AUTH = statement<[tokenHash: string], AgentPrincipal>(
  `SELECT t.id AS "tokenId", a.id, a.user_id AS "userId", a.organization_id::text AS "organizationId", a.last_seen_at AS "lastSeenAt", a.version
  FROM agent_tokens t
  JOIN agents a ON a.id = t.agent_id
  JOIN users u ON u.id = a.user_id
 WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND a.revoked_at IS NULL AND ${activeUserSql('u')}`,
  'agent-bearer-auth',
);

/** What a login reads and returns: the users row's fields the login needs. */
export type LoginUser = Pick<User, 'id' | 'email' | 'passwordHash' | 'role' | 'status' | 'emailVerifiedAt' | 'createdAt' | 'lastLoginAt'>;

const LOGIN_COLUMNS = `id::text AS id, email, password_hash AS "passwordHash", role::text AS role, status::text AS status,
  email_verified_at AS "emailVerifiedAt", created_at AS "createdAt", last_login_at AS "lastLoginAt"`;

/** The user a login names (parameter: the normalised email). */
export const LOGIN_USER = statement<[email: string], LoginUser>(`SELECT ${LOGIN_COLUMNS} FROM users WHERE email = $1`);

/**
 * A successful login in one statement: stamps last_login_at (and stores the new hash after a
 * rehash) and writes the `auth.login` audit row, so both happen or neither. Parameters: the
 * user, the new hash or null, then auditRow()'s values (the audit writer's scrubbed row; only
 * its INSERT rides in the CTE).
 */
export const RECORD_LOGIN = statement<[userId: string, rehash: string | null, ...audit: unknown[]], LoginUser>(
  `WITH updated AS (
       UPDATE users SET last_login_at = now(), updated_at = now(), password_hash = COALESCE($2, password_hash)
        WHERE id = $1::uuid
       RETURNING *
     ), audit AS (
       INSERT INTO audit_logs (${AUDIT_COLUMNS}) SELECT ${auditValues(3)} FROM updated
     )
     SELECT ${LOGIN_COLUMNS} FROM updated`,
);
