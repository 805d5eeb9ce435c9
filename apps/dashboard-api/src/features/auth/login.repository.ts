// The login hot path in raw SQL. A login storm is bounded by argon2, and everything else a login
// does competes with argon2 for the same cores; through Prisma the lookup and the
// update-plus-audit transaction cost ~5 ms of CPU per login (measured: bench/login.bench.ts),
// here well under 1 ms. Everything else in the feature goes through Prisma.
import type { Database } from '../../platform/database.ts';
import type { RequestContext } from '../audit/audit.writer.ts';

export interface LoginUser {
  id: string;
  email: string;
  passwordHash: string;
  role: 'user' | 'admin';
  status: 'active' | 'suspended';
  emailVerifiedAt: Date | null;
  createdAt: Date;
  lastLoginAt: Date | null;
}

const COLUMNS = `id::text AS id, email, password_hash AS "passwordHash", role::text AS role, status::text AS status,
  email_verified_at AS "emailVerifiedAt", created_at AS "createdAt", last_login_at AS "lastLoginAt"`;

export async function findUserByEmail(db: Pick<Database, 'pool'>, email: string): Promise<LoginUser | null> {
  const { rows } = await db.pool.query<LoginUser>(`SELECT ${COLUMNS} FROM users WHERE email = $1`, [email]);
  return rows[0] ?? null;
}

/**
 * Stamps last_login_at (and stores the new hash after a rehash) and writes the `auth.login`
 * audit row, in one statement: both happen or neither. The row has the columns recordAudit()
 * writes; its details never hold more than `{rehashed: true}`.
 */
export async function recordSuccessfulLogin(db: Pick<Database, 'pool'>, userId: string, options: { rehash?: string; context: RequestContext }): Promise<LoginUser> {
  const { rows } = await db.pool.query<LoginUser>(
    `WITH updated AS (
       UPDATE users SET last_login_at = now(), updated_at = now(), password_hash = COALESCE($2, password_hash)
        WHERE id = $1::uuid
       RETURNING *
     ), audit AS (
       INSERT INTO audit_logs (actor_type, actor_id, action, target_type, target_id, result, ip, user_agent, details)
       SELECT 'user', id, 'auth.login', 'user', id::text, 'success', $3, $4, $5::jsonb FROM updated
     )
     SELECT ${COLUMNS} FROM updated`,
    [userId, options.rehash ?? null, options.context.ip, options.context.userAgent?.slice(0, 512) ?? null, options.rehash ? JSON.stringify({ rehashed: true }) : null],
  );
  if (!rows[0]) throw new Error('user vanished during login');
  return rows[0];
}
