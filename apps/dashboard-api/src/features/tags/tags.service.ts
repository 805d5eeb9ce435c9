// Tags on dongles: set and remove one, or change many at once (by ids or by a selector). Only the
// organization's dongles; another organization's is a 404 like a missing one. Each change is audited in
// its transaction: one row per dongle for single changes, one row for a bulk change (with the
// count and the selector or ids), so tagging 100k dongles does not write 100k audit rows.
import type { Database } from '../../platform/database.ts';
import { AppError, notFound } from '../../platform/errors.ts';
import { recordAudit, type RequestContext } from '../../platform/audit/audit-writer.ts';
import type { OrgScope } from '../organizations/org-scope.ts';
import { lockOrgDongle } from '../dongles/dongle-lock.ts';
import { MAX_TAGS_PER_DONGLE, type TagMap } from '../dongles/tag-rules.ts';
import { selectorSql, type Selector } from '../dongles/tag-selector.ts';

export const MAX_BULK_IDS = 1_000;

const tooManyTags = (count: number) =>
  new AppError(422, 'too_many_tags', `A dongle may carry at most ${MAX_TAGS_PER_DONGLE} tags; this change would leave ${count}.`);

export interface BulkTagInput {
  dongleIds?: string[];
  selector?: Selector;
  set: TagMap;
  remove: string[];
}

export function createTagsService(deps: { db: Database }) {
  const { prisma, pool } = deps.db;

  async function get(scope: OrgScope, dongleId: string): Promise<TagMap> {
    const dongle = await prisma.dongle.findFirst({ where: { id: dongleId, organizationId: scope.orgId }, select: { tags: true } });
    if (!dongle) throw notFound('Dongle');
    return dongle.tags as TagMap;
  }

  async function change(scope: OrgScope, dongleId: string, edit: { set?: [string, string]; remove?: string }, context: RequestContext): Promise<TagMap> {
    return prisma.$transaction(async (tx) => {
      await lockOrgDongle(tx, scope.orgId, { id: dongleId });
      const before = (await tx.dongle.findUniqueOrThrow({ where: { id: dongleId }, select: { tags: true } })).tags as TagMap;
      const after = { ...before };
      if (edit.set) after[edit.set[0]] = edit.set[1];
      if (edit.remove) delete after[edit.remove];
      const key = edit.set?.[0] ?? edit.remove!;
      if (before[key] === after[key]) return before; // nothing changed, nothing audited
      if (Object.keys(after).length > MAX_TAGS_PER_DONGLE) throw tooManyTags(Object.keys(after).length);
      await tx.dongle.update({ where: { id: dongleId }, data: { tags: after } });
      await recordAudit(tx, {
        actor: { type: 'user', id: scope.userId },
        action: edit.set ? 'dongle.tag.set' : 'dongle.tag.remove',
        targetType: 'dongle',
        targetId: dongleId,
        details: { tag: key, from: before[key] ?? null, to: after[key] ?? null },
        context,
      });
      return after;
    });
  }

  /**
   * One UPDATE over the organization's dongles: `(tags - remove) || set`. Explicit ids must all be the
   * caller's (otherwise 404, nothing changed); a selector changes whatever of theirs matches.
   * A dongle that would pass the tag limit fails the whole change (422), nothing is written.
   */
  async function bulk(scope: OrgScope, input: BulkTagInput, context: RequestContext): Promise<{ matched: number; changed: number }> {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const params: unknown[] = [scope.orgId, input.remove, JSON.stringify(input.set)];
      let where: string;
      if (input.dongleIds) {
        params.push(input.dongleIds);
        where = `d.id = ANY($4::uuid[])`;
      } else {
        const compiled = selectorSql(input.selector!.terms, 'd', 4);
        params.push(...compiled.params);
        where = compiled.sql;
      }
      const { rows } = await client.query<{ id: string; changed: boolean; count: number }>(
        `WITH target AS (
           SELECT d.id, d.tags FROM dongles d WHERE d.organization_id = $1::uuid AND ${where} ORDER BY d.id FOR UPDATE
         ), updated AS (
           UPDATE dongles d SET tags = (t.tags - $2::text[]) || $3::jsonb, updated_at = now()
             FROM target t WHERE d.id = t.id AND (t.tags - $2::text[]) || $3::jsonb <> t.tags
           RETURNING d.id, (SELECT count(*) FROM jsonb_object_keys(d.tags))::int AS count
         )
         SELECT t.id::text AS id, u.id IS NOT NULL AS changed, COALESCE(u.count, 0) AS count
           FROM target t LEFT JOIN updated u ON u.id = t.id`,
        params,
      );
      if (input.dongleIds && rows.length !== new Set(input.dongleIds).size) throw notFound('Dongle');
      const worst = Math.max(0, ...rows.map((r) => r.count));
      if (worst > MAX_TAGS_PER_DONGLE) throw tooManyTags(worst);
      const changed = rows.filter((r) => r.changed).length;
      if (changed > 0) {
        await recordAudit(client, {
          actor: { type: 'user', id: scope.userId },
          action: 'dongle.tag.bulk',
          targetType: 'dongle',
          details: { matched: rows.length, changed, set: input.set, remove: input.remove, selector: input.selector?.text ?? null, dongleIds: input.dongleIds ?? null },
          context,
        });
      }
      await client.query('COMMIT');
      return { matched: rows.length, changed };
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  return {
    get,
    set: (scope: OrgScope, dongleId: string, key: string, value: string, context: RequestContext) => change(scope, dongleId, { set: [key, value] }, context),
    remove: (scope: OrgScope, dongleId: string, key: string, context: RequestContext) => change(scope, dongleId, { remove: key }, context),
    bulk,
  };
}

export type TagsService = ReturnType<typeof createTagsService>;
