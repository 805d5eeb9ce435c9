// The login hot path in raw SQL (statements in auth.sql.ts). A login storm is bounded by argon2,
// and everything else a login does competes with argon2 for the same cores; through Prisma the
// lookup and the update-plus-audit transaction cost ~5 ms of CPU per login (measured:
// bench/login.bench.ts), here well under 1 ms. Everything else in the feature goes through Prisma.
import { run, type Database } from '../../platform/database.ts';
import { auditRow, type RequestContext } from '../../platform/audit/audit-writer.ts';
import { LOGIN_USER, RECORD_LOGIN, type LoginUser } from './auth.sql.ts';

export type { LoginUser };

export async function findUserByEmail(db: Pick<Database, 'pool'>, email: string): Promise<LoginUser | null> {
  const [user] = await run(db.pool, LOGIN_USER, [email]);
  return user ?? null;
}

/**
 * Stamps last_login_at (and stores the new hash after a rehash) and writes the `auth.login`
 * audit row, in one statement: both happen or neither. The row comes from the audit writer's
 * auditRow() (scrubbed, user agent cut, like every audit row).
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
  const [user] = await run(db.pool, RECORD_LOGIN, [userId, options.rehash ?? null, ...audit]);
  if (!user) throw new Error('user vanished during login');
  return user;
}
