// The bulk tag change, one statement on a raw pg transaction: it may touch every dongle of an
// organization (100k in bench/jobs.bench.ts's fleet), which through Prisma would be one
// round trip per row. The service imports it from here.
import { statement, type Statement } from '../../platform/database.ts';
import { selectorSql, type SelectorTerm } from '../dongles/tag-selector.ts';

/** The organization, the keys to remove, the tags to set (JSON text); then the target's values ($4…). */
type BulkParams = [organizationId: string, remove: string[], setJson: string, ...target: unknown[]];

/** Each targeted dongle (locked, in id order), whether it changed, and its tag count after. */
export type BulkTagRow = { id: string; changed: boolean; count: number };

const bulkSql = (where: string) => `WITH target AS (
           SELECT d.id, d.tags FROM dongles d WHERE d.organization_id = $1::uuid AND ${where} ORDER BY d.id FOR UPDATE
         ), updated AS (
           UPDATE dongles d SET tags = (t.tags - $2::text[]) || $3::jsonb, updated_at = now()
             FROM target t WHERE d.id = t.id AND (t.tags - $2::text[]) || $3::jsonb <> t.tags
           RETURNING d.id, (SELECT count(*) FROM jsonb_object_keys(d.tags))::int AS count
         )
         SELECT t.id::text AS id, u.id IS NOT NULL AS changed, COALESCE(u.count, 0) AS count
           FROM target t LEFT JOIN updated u ON u.id = t.id`;

/** `(tags - remove) || set` on the organization's dongles with these ids ($4: uuid[]). */
export const BULK_TAGS_BY_IDS = statement<[...BulkParams, ids: string[]], BulkTagRow>(bulkSql('d.id = ANY($4::uuid[])'));

/** The same on the organization's dongles a selector matches; returns the statement and the selector's values. */
export function bulkTagsBySelector(terms: SelectorTerm[]): { statement: Statement<BulkParams, BulkTagRow>; params: unknown[] } {
  const compiled = selectorSql(terms, 'd', 4);
  return { statement: statement(bulkSql(compiled.sql)), params: compiled.params };
}
