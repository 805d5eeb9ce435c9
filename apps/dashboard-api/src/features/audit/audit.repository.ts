// Raw SQL for the audit review: the list and the export share one query builder, so a filter
// means the same in both. Every filter has an index ending in (created_at DESC, id DESC) (see
// the AuditLog model), so a page is one index range scan whatever the combination.
import Cursor from 'pg-cursor';
import type pg from 'pg';
import type { AuditLog } from '../../generated/prisma/client.ts';
import type { TableRow } from '../../platform/database.ts';
import { keysetSql, type CursorKey } from '../../platform/pagination.ts';
import type { AuditFilters } from './audit.schemas.ts';

/** A row of the review: the audit_logs columns in COLUMNS, created_at as exact UTC text. */
export type AuditRow = Omit<TableRow<AuditLog>, 'created_at' | 'organization_id'> & { created_at_utc: string };

export interface SqlQuery {
  text: string;
  values: unknown[];
}

// The timestamp as exact text (microseconds, UTC): it is both the presented value and the cursor.
const COLUMNS = `id, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS created_at_utc,
  actor_type, actor_id, action, target_type, target_id, result, ip, user_agent, details`;

/** Newest first; rows strictly after `after` in that order; at most `limit` rows when given. */
export function auditQuery(filters: AuditFilters, options: { after?: CursorKey; limit?: number; label?: string } = {}): SqlQuery {
  const values: unknown[] = [];
  const param = (value: unknown, cast = '') => `$${values.push(value)}${cast}`;
  const where: string[] = [];
  // An organization's own log (set by the route, never by the query string).
  if (filters.organizationId) where.push(`organization_id = ${param(filters.organizationId, '::uuid')}`);
  if (filters.actorId) where.push(`actor_id = ${param(filters.actorId, '::uuid')}`);
  if (filters.action) where.push(`action = ${param(filters.action)}`);
  if (filters.targetType) where.push(`target_type = ${param(filters.targetType)}`);
  if (filters.targetId) where.push(`target_id = ${param(filters.targetId)}`);
  if (filters.from) where.push(`created_at >= ${param(filters.from.toISOString(), '::timestamptz')}`);
  if (filters.to) where.push(`created_at < ${param(filters.to.toISOString(), '::timestamptz')}`);
  // A row comparison matches the index order exactly, so the keyset is an index bound.
  if (options.after) where.push(keysetSql(param(options.after.createdAt), param(options.after.id)));
  const text = [
    // The label lets operators (and the disconnect test) find the query in pg_stat_activity.
    options.label ? `/* ${options.label} */` : '',
    `SELECT ${COLUMNS} FROM audit_logs`,
    where.length ? `WHERE ${where.join(' AND ')}` : '',
    'ORDER BY created_at DESC, id DESC',
    options.limit ? `LIMIT ${param(options.limit, '::int')}` : '',
  ]
    .filter(Boolean)
    .join('\n');
  return { text, values };
}

export function createAuditRepository(pool: pg.Pool) {
  return {
    async page(filters: AuditFilters, after: CursorKey | undefined, limit: number): Promise<AuditRow[]> {
      const query = auditQuery(filters, { after, limit });
      return (await pool.query<AuditRow>(query.text, query.values)).rows;
    },

    /**
     * Every matching row, newest first, read in batches through a server-side cursor on a client
     * of its own. The client goes back to the pool when the generator finishes, fails, or is
     * closed early with `return()` (a client that went away).
     */
    async *stream(filters: AuditFilters, batchSize = 500): AsyncGenerator<AuditRow[], void, undefined> {
      const client = await pool.connect();
      const query = auditQuery(filters, { label: 'audit-export' });
      const cursor = client.query(new Cursor<AuditRow>(query.text, query.values));
      let failure: Error | undefined;
      try {
        for (;;) {
          const rows = await cursor.read(batchSize);
          if (rows.length > 0) yield rows;
          if (rows.length < batchSize) return;
        }
      } catch (error) {
        failure = error as Error;
        throw error;
      } finally {
        // Closing the portal ends the query on the server; a broken connection is discarded.
        await cursor.close().catch((error: Error) => (failure ??= error));
        client.release(failure);
      }
    },
  };
}

export type AuditRepository = ReturnType<typeof createAuditRepository>;
