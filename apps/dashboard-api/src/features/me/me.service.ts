// The signed-in user's own account: password change and their sessions. Every function takes
// the acting user and the id of the session they act from.
import { Prisma } from '../../generated/prisma/client.ts';
import type { Database } from '../../platform/database.ts';
import { forbidden, notFound, tooManyRequests } from '../../platform/errors.ts';
import type { RateLimit } from '../../platform/rate-limit.ts';
import { recordAudit, type RequestContext } from '../../platform/audit/audit-writer.ts';
import type { PasswordHasher } from '../auth/password-hashing.ts';
import { normalizePassword } from '../../platform/password-policy.ts';
import type { SessionUser } from '../auth/principal.ts';
import { endSessions } from '../auth/session-revocation.ts';
import { decodeCursor, keysetAfter, toPage, type ListQuery } from '../../platform/pagination.ts';
import { presentSession, type SessionRow } from './session.presenter.ts';

export interface MeServiceDeps {
  db: Database;
  hasher: PasswordHasher;
  /** The per-account login lockout: wrong current passwords count towards it too. */
  loginFailures: RateLimit;
}

export function createMeService({ db, hasher, loginFailures }: MeServiceDeps) {
  return {
    /** Needs the current password; ends every other session and any outstanding reset link. */
    async changePassword(actor: SessionUser, currentSid: string, currentPassword: string, newPassword: string, context: RequestContext): Promise<void> {
      // Counted up front (see authenticate); a right current password gives the hit back.
      const lock = await loginFailures.hit(actor.email);
      if (!lock.allowed) throw tooManyRequests(lock.retryAfterSeconds, 'Too many wrong passwords for this account; try again later.');
      const { passwordHash } = await db.prisma.user.findUniqueOrThrow({ where: { id: actor.id }, select: { passwordHash: true } });
      if (!(await hasher.verify(passwordHash, normalizePassword(currentPassword)))) {
        await db.prisma.$transaction((tx) =>
          recordAudit(tx, { actor: { type: 'user', id: actor.id }, action: 'auth.password_change', targetType: 'user', targetId: actor.id, result: 'failure', details: { reason: 'wrong_current_password' }, context }),
        );
        throw forbidden('invalid_current_password', 'The current password is incorrect.');
      }
      await loginFailures.refund(actor.email);
      const newHash = await hasher.hash(newPassword);
      await db.prisma.$transaction(async (tx) => {
        await tx.user.update({ where: { id: actor.id }, data: { passwordHash: newHash } });
        const otherSessionsEnded = await endSessions(tx, actor.id, currentSid);
        await tx.passwordResetToken.deleteMany({ where: { userId: actor.id, usedAt: null } });
        await recordAudit(tx, { actor: { type: 'user', id: actor.id }, action: 'auth.password_change', targetType: 'user', targetId: actor.id, details: { otherSessionsEnded }, context });
      });
    },

    /** Live sessions, newest first; the one making the request is marked `current`. */
    async listSessions(actor: SessionUser, currentSid: string, query: ListQuery) {
      const keyset = keysetAfter(query.cursor ? decodeCursor(query.cursor) : undefined, { createdAt: 'created_at', id: 'public_id' });
      const rows = await db.prisma.$queryRaw<SessionRow[]>`
        SELECT public_id::text AS id, created_at::text AS k, ip, user_agent, created_at, expire,
               sess->>'refreshedAt' AS refreshed_at, sid = ${currentSid} AS current
          FROM sessions
         WHERE user_id = ${actor.id}::uuid AND expire > now() AND ${keyset}
         ORDER BY created_at DESC, public_id DESC
         LIMIT ${query.limit + 1}`;
      return toPage(rows, query.limit, presentSession);
    },

    /** Ends one of the actor's sessions; someone else's (or an unknown id) is a 404. */
    async revokeSession(actor: SessionUser, currentSid: string, publicId: string, context: RequestContext): Promise<{ wasCurrent: boolean }> {
      return db.prisma.$transaction(async (tx) => {
        const target = await tx.session.findFirst({ where: { publicId, userId: actor.id }, select: { sid: true } });
        if (!target) throw notFound('Session');
        await tx.session.delete({ where: { sid: target.sid } });
        const wasCurrent = target.sid === currentSid;
        await recordAudit(tx, { actor: { type: 'user', id: actor.id }, action: 'session.revoke', targetType: 'session', targetId: publicId, details: { current: wasCurrent }, context });
        return { wasCurrent };
      });
    },

    async revokeOtherSessions(actor: SessionUser, currentSid: string, context: RequestContext): Promise<number> {
      return db.prisma.$transaction(async (tx) => {
        const revoked = await endSessions(tx, actor.id, currentSid);
        await recordAudit(tx, { actor: { type: 'user', id: actor.id }, action: 'session.revoke_others', targetType: 'user', targetId: actor.id, details: { revoked }, context });
        return revoked;
      });
    },
  };
}

export type MeService = ReturnType<typeof createMeService>;
