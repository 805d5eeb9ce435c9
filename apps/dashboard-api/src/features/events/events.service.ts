// Reading the event log: the keyset list (newest first; the cursor holds the last id of the page,
// ids only grow) and the checks an open stream repeats (is the caller still allowed in?).
import { Prisma } from '../../generated/prisma/client.ts';
import type { Database } from '../../platform/database.ts';
import { pageFrom, type Page } from '../../platform/pagination.ts';
import type { EventRow } from './event-hub.ts';
import type { EventListQuery, EventView } from './events.schemas.ts';
import { activeUserSql } from '../auth/user-status.ts';

export const presentEvent = (row: EventRow): EventView => ({
  id: row.id,
  type: row.type,
  timestamp: row.createdAt.toISOString(),
  subject: { type: row.subjectType, id: row.subjectId },
  data: row.data,
});

export function createEventsService(deps: { db: Database }) {
  const { db } = deps;
  return {
    async list(orgId: string, query: EventListQuery): Promise<Page<EventView>> {
      const filters = [Prisma.sql`organization_id = ${orgId}::uuid`];
      if (query.cursor) filters.push(Prisma.sql`id < ${query.cursor}::bigint`);
      if (query.type) filters.push(Prisma.sql`type = ANY (${query.type}::text[])`);
      if (query.subjectType) filters.push(Prisma.sql`subject_type = ${query.subjectType}`);
      if (query.subjectId) filters.push(Prisma.sql`subject_id = ${query.subjectId}`);
      const rows = await db.prisma.$queryRaw<EventRow[]>(Prisma.sql`
        SELECT id::text AS id, organization_id::text AS "organizationId", type, subject_type AS "subjectType",
               subject_id AS "subjectId", data, created_at AS "createdAt"
          FROM events WHERE ${Prisma.join(filters, ' AND ')}
         ORDER BY events.id DESC LIMIT ${query.limit + 1}`);
      return pageFrom(rows, query.limit, presentEvent, (row) => [row.id]);
    },

    /** Still a member, account active, and the session or API key still valid. */
    async stillAllowed(caller: { orgId: string; userId: string; sessionId: string | null; apiKeyId: string | null }): Promise<boolean> {
      const { rows } = await db.pool.query<{ ok: boolean }>(
        `SELECT EXISTS (
           SELECT 1 FROM memberships m JOIN users u ON u.id = m.user_id
            WHERE m.organization_id = $1::uuid AND m.user_id = $2::uuid AND ${activeUserSql('u')}
              AND ($3::text IS NULL OR EXISTS (SELECT 1 FROM sessions s WHERE s.sid = $3 AND s.user_id = u.id AND s.expire > now()))
              AND ($4::uuid IS NULL OR EXISTS (SELECT 1 FROM api_keys k WHERE k.id = $4::uuid AND k.revoked_at IS NULL AND k.expires_at > now()))
         ) AS ok`,
        [caller.orgId, caller.userId, caller.sessionId, caller.apiKeyId],
      );
      return rows[0]!.ok;
    },
  };
}
export type EventsService = ReturnType<typeof createEventsService>;
