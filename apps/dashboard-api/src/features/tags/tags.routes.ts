// Tag routes under /api/dongles: read, set one, remove one, bulk change.
import { z } from 'zod';
import type { ApiRouter } from '../../platform/http/api-router.ts';
import { requestContext } from '../../platform/audit/audit-writer.ts';
import { currentScope } from '../organizations/org-scope.ts';
import { tagKey, tagMap, tagValue } from '../dongles/tag-rules.ts';
import { selectorField } from '../dongles/tag-selector.ts';
import { MAX_BULK_IDS, type TagsService } from './tags.service.ts';

const tags = ['tags'];
const dongleParams = z.strictObject({ id: z.uuid({ message: 'id must be a uuid.' }) });
const tagParams = dongleParams.extend({ key: tagKey });
const tagsView = z.object({ tags: z.record(z.string(), z.string()) });

const bulkBody = z
  .strictObject({
    dongleIds: z.array(z.uuid()).min(1).max(MAX_BULK_IDS).optional(),
    selector: selectorField.optional(),
    set: tagMap.default({}),
    remove: z.array(tagKey).max(20).default([]),
  })
  .refine((b) => (b.dongleIds === undefined) !== (b.selector === undefined), { message: 'give exactly one of dongleIds or selector.', path: ['dongleIds'] })
  .refine((b) => Object.keys(b.set).length + b.remove.length > 0, { message: 'give tags to set or keys to remove.', path: ['set'] });

export function mountTagRoutes(api: ApiRouter, deps: { tags: TagsService }) {
  const service = deps.tags;

  api.post(
    '/tags/bulk',
    {
      summary: 'Set and remove tags on many of my dongles (by ids or by selector)',
      description: 'One change for all: explicit ids must all be dongles of the organization (else 404, nothing changed); a dongle that would pass 20 tags fails the whole change (422 too_many_tags).',
      tags,
      auth: 'session',
      permission: 'fleet.operate',
      body: bulkBody,
      responses: { 200: { description: 'How many matched and how many changed', schema: z.object({ matched: z.int(), changed: z.int() }) }, 404: { description: 'An id that is not your dongle' }, 422: { description: 'Bad tag, bad selector (one detail per term), too_many_tags' } },
    },
    async (req, res) => {
      res.json(await service.bulk(currentScope(res), res.locals.body, requestContext(req)));
    },
  );

  api.get(
    '/:id/tags',
    { summary: "A dongle's tags", tags, auth: 'session', permission: 'fleet.read', params: dongleParams, responses: { 200: { description: 'The tags', schema: tagsView }, 404: { description: 'No such dongle of yours' } } },
    async (_req, res) => {
      res.json({ tags: await service.get(currentScope(res), res.locals.params.id) });
    },
  );

  api.put(
    '/:id/tags/:key',
    {
      summary: 'Set one tag',
      tags,
      auth: 'session',
      permission: 'fleet.operate',
      params: tagParams,
      body: z.strictObject({ value: tagValue }),
      responses: { 200: { description: 'The tags now', schema: tagsView }, 404: { description: 'No such dongle of yours' }, 422: { description: 'Bad key or value, too_many_tags' } },
    },
    async (req, res) => {
      const { id, key } = res.locals.params;
      res.json({ tags: await service.set(currentScope(res), id, key, res.locals.body.value, requestContext(req)) });
    },
  );

  api.delete(
    '/:id/tags/:key',
    { summary: 'Remove one tag (no change when absent)', tags, auth: 'session', permission: 'fleet.operate', params: tagParams, responses: { 200: { description: 'The tags now', schema: tagsView }, 404: { description: 'No such dongle of yours' } } },
    async (req, res) => {
      const { id, key } = res.locals.params;
      res.json({ tags: await service.remove(currentScope(res), id, key, requestContext(req)) });
    },
  );
}
