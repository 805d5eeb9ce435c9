// User management for administrators: list with search and filters, change role and status.
// Suspension ends the user's sessions and revokes their agents' tokens in the same transaction,
// so it takes effect on their very next request, whether by cookie or by bearer token.
import { Prisma } from '../../generated/prisma/client.ts';
import type { Database } from '../../platform/database.ts';
import { conflict, notFound } from '../../platform/errors.ts';
import { changes, recordAudit, type RequestContext } from '../../platform/audit/audit-writer.ts';
import type { SessionUser } from '../auth/principal.ts';
import { endSessions } from '../auth/session-revocation.ts';
import { endWaitingPolls } from '../commands/command-queue.ts';
import { presentUser, type UserRow } from '../auth/user.presenter.ts';
import type { AdminUserPatch, AdminUsersQuery } from './admin-users.schemas.ts';
import { decodeCursor, keysetAfter, toPage } from '../../platform/pagination.ts';

/** A user row plus its keyset position (created_at as PostgreSQL text). */
interface UserListRow extends UserRow {
  k: string;
}

const likePattern = (text: string) => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

export function createAdminUsersService({ db }: { db: Database }) {
  return {
    /** Newest first; `email` matches any part of the address. */
    async list(query: AdminUsersQuery) {
      const after = query.cursor ? decodeCursor(query.cursor) : undefined;
      const conditions = [
        query.email ? Prisma.sql`email LIKE ${likePattern(query.email)}` : undefined,
        query.status ? Prisma.sql`status = ${query.status}::user_status` : undefined,
        query.role ? Prisma.sql`role = ${query.role}::user_role` : undefined,
        after ? keysetAfter(after) : undefined,
      ].filter((condition): condition is Prisma.Sql => condition !== undefined);
      const rows = await db.prisma.$queryRaw<UserListRow[]>`
        SELECT id::text AS id, created_at::text AS k, email, role::text AS role, status::text AS status,
               email_verified_at AS "emailVerifiedAt", created_at AS "createdAt", last_login_at AS "lastLoginAt"
          FROM users
         WHERE ${conditions.length > 0 ? Prisma.join(conditions, ' AND ') : Prisma.sql`TRUE`}
         ORDER BY created_at DESC, id DESC
         LIMIT ${query.limit + 1}`;
      return toPage(rows, query.limit, presentUser);
    },

    async update(actor: SessionUser, userId: string, patch: AdminUserPatch, context: RequestContext) {
      return db.prisma.$transaction(async (tx) => {
        // Locked, so two admins changing one user are audited in the order they happened.
        const [before] = await tx.$queryRaw<Array<{ role: 'user' | 'admin'; status: 'active' | 'suspended' }>>`
          SELECT role::text AS role, status::text AS status FROM users WHERE id = ${userId}::uuid FOR UPDATE`;
        if (!before) throw notFound('User');
        if (userId === actor.id && ((patch.role && patch.role !== 'admin') || patch.status === 'suspended')) {
          throw conflict('cannot_change_own_access', 'Administrators cannot demote or suspend themselves.');
        }
        const updated = await tx.user.update({ where: { id: userId }, data: { role: patch.role, status: patch.status } });
        let sessionsEnded = 0;
        let agentTokensRevoked = 0;
        if (patch.status === 'suspended' && before.status !== 'suspended') {
          sessionsEnded = await endSessions(tx, userId);
          ({ count: agentTokensRevoked } = await tx.agentToken.updateMany({ where: { revokedAt: null, agent: { userId } }, data: { revokedAt: new Date() } }));
          const agents = await tx.agent.findMany({ where: { userId, revokedAt: null }, select: { id: true } });
          await endWaitingPolls(tx, agents.map((a) => a.id));
        }
        await recordAudit(tx, {
          actor: { type: 'user', id: actor.id },
          action: 'admin.user_update',
          targetType: 'user',
          targetId: userId,
          // "agentAccessRevoked" counts agent tokens (a key containing "token" would be scrubbed).
          details: { changes: changes(before, patch), sessionsEnded, agentAccessRevoked: agentTokensRevoked },
          context,
        });
        return presentUser(updated);
      });
    },
  };
}

export type AdminUsersService = ReturnType<typeof createAdminUsersService>;
