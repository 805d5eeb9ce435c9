import type { Database } from '../../platform/database.ts';
import { AppError, forbidden } from '../../platform/errors.ts';
import { recordAudit, type RequestContext } from '../audit/audit.writer.ts';
import type { PasswordHasher } from './password-hashing.ts';

export const invalidCredentials = () => new AppError(401, 'invalid_credentials', 'Email or password is incorrect.');

export interface AuthServiceDeps {
  db: Database;
  hasher: PasswordHasher;
}

export function createAuthService({ db, hasher }: AuthServiceDeps) {
  return {
    /**
     * Checks the credentials and returns the user. An unknown email costs the same argon2
     * verify as a wrong password and gives the same answer. Every outcome is audited.
     */
    async authenticate(email: string, password: string, context: RequestContext) {
      const user = await db.prisma.user.findUnique({ where: { email } });
      const ok = await hasher.verify(user?.passwordHash ?? null, password);
      if (!user || !ok) {
        await db.prisma.$transaction((tx) =>
          recordAudit(tx, {
            actor: user ? { type: 'user', id: user.id } : { type: 'system' },
            action: 'auth.login',
            targetType: 'user',
            targetId: user?.id ?? null,
            result: 'failure',
            details: { reason: 'invalid_credentials' },
            context,
          }),
        );
        throw invalidCredentials();
      }
      if (user.status !== 'active') {
        await db.prisma.$transaction((tx) =>
          recordAudit(tx, { actor: { type: 'user', id: user.id }, action: 'auth.login', targetType: 'user', targetId: user.id, result: 'denied', details: { reason: 'account_suspended' }, context }),
        );
        throw forbidden('account_suspended', 'This account is suspended.');
      }
      const rehash = hasher.needsRehash(user.passwordHash) ? await hasher.hash(password) : undefined;
      return db.prisma.$transaction(async (tx) => {
        const updated = await tx.user.update({
          where: { id: user.id },
          data: { lastLoginAt: new Date(), ...(rehash ? { passwordHash: rehash } : {}) },
        });
        await recordAudit(tx, { actor: { type: 'user', id: user.id }, action: 'auth.login', targetType: 'user', targetId: user.id, details: rehash ? { rehashed: true } : undefined, context });
        return updated;
      });
    },

    async recordLogout(userId: string, context: RequestContext) {
      await db.prisma.$transaction((tx) => recordAudit(tx, { actor: { type: 'user', id: userId }, action: 'auth.logout', targetType: 'user', targetId: userId, context }));
    },
  };
}

export type AuthService = ReturnType<typeof createAuthService>;
