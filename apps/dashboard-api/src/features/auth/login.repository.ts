// The login hot path in raw SQL. A login storm is bounded by argon2, and everything else a login
// does competes with argon2 for the same cores; through Prisma the lookup and the
// update-plus-audit transaction cost ~5 ms of CPU per login (measured: bench/login.bench.ts),
// here well under 1 ms. Everything else in the feature goes through Prisma.
import type { Database } from '../../platform/database.ts';
import { AUDIT_COLUMNS, auditRow, auditValues, type RequestContext } from '../../platform/audit/audit-writer.ts';

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
 * audit row, in one statement: both happen or neither. The row comes from the audit writer's
 * auditRow() (scrubbed, user agent cut, like every audit row); only its INSERT rides in the CTE.
 */
export async function recordSuccessfulLogin(db: Pick<Database, 'pool'>, userId: string, options: { rehash?: string; context: RequestContext }): Promise<LoginUser> {
  const audit = auditRow({
    actor: { type: 'user', id: userId },
    action: 'auth.login',
    targetType: 'user',
    targetId: userId,
    ...(options.rehash ? { details: { rehashed: true } as const } : {}),
    context: options.context,
  });
  const { rows } = await db.pool.query<LoginUser>(
    `WITH updated AS (
       UPDATE users SET last_login_at = now(), updated_at = now(), password_hash = COALESCE($2, password_hash)
        WHERE id = $1::uuid
       RETURNING *
     ), audit AS (
       INSERT INTO audit_logs (${AUDIT_COLUMNS}) SELECT ${auditValues(3)} FROM updated
     )
     SELECT ${COLUMNS} FROM updated`,
    [userId, options.rehash ?? null, ...audit],
  );
  if (!rows[0]) throw new Error('user vanished during login');
  return rows[0];
}
