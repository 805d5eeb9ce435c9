// Tags on dongles: set and remove one, or change many at once (by ids or by a selector). Only the
// organization's dongles; another organization's is a 404 like a missing one. Each change is audited in
// its transaction: one row per dongle for single changes, one row for a bulk change (with the
// count and the selector or ids), so tagging 100k dongles does not write 100k audit rows.
import { inPgTransaction, run, type Database } from '../../platform/database.ts';
import { AppError, notFound } from '../../platform/errors.ts';
import { recordAudit, type RequestContext } from '../../platform/audit/audit-writer.ts';
import type { OrgScope } from '../organizations/org-scope.ts';
import { lockOrgDongle } from '../dongles/dongle-lock.ts';
import { MAX_TAGS_PER_DONGLE, type TagMap } from '../dongles/tag-rules.ts';
import type { Selector } from '../dongles/tag-selector.ts';
import { BULK_TAGS_BY_IDS, bulkTagsBySelector } from './tags.sql.ts';

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
   * One raw pg transaction (tags.sql.ts: why).
   */
  async function bulk(scope: OrgScope, input: BulkTagInput, context: RequestContext): Promise<{ matched: number; changed: number }> {
    return inPgTransaction(pool, async (client) => {
      const head = [scope.orgId, input.remove, JSON.stringify(input.set)] as const;
      let rows;
      if (input.dongleIds) {
        rows = await run(client, BULK_TAGS_BY_IDS, [...head, input.dongleIds]);
      } else {
        const bySelector = bulkTagsBySelector(input.selector!.terms);
        rows = await run(client, bySelector.statement, [...head, ...bySelector.params]);
      }
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
      return { matched: rows.length, changed };
    });
  }

  return {
    get,
    set: (scope: OrgScope, dongleId: string, key: string, value: string, context: RequestContext) => change(scope, dongleId, { set: [key, value] }, context),
    remove: (scope: OrgScope, dongleId: string, key: string, context: RequestContext) => change(scope, dongleId, { remove: key }, context),
    bulk,
  };
}

export type TagsService = ReturnType<typeof createTagsService>;
