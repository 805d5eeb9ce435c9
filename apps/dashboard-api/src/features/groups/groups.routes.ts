import type { ApiRouter } from '../../platform/http/api-router.ts';
import { listQuery, pageOf } from '../../platform/pagination.ts';
import { requestContext } from '../../platform/audit/audit-writer.ts';
import { currentScope } from '../organizations/org-scope.ts';
import { createGroupBody, groupIdParams, groupView, updateGroupBody } from './groups.schemas.ts';
import type { GroupsService } from './groups.service.ts';

const tags = ['groups'];

/** Operator routes under /api/groups. */
export function mountGroupRoutes(api: ApiRouter, deps: { groups: GroupsService }) {
  const { groups } = deps;

  api.post(
    '/',
    {
      summary: 'Pair two CLAIMED_ACTIVE dongles of the organization',
      tags,
      auth: 'session',
      permission: 'fleet.operate',
      body: createGroupBody,
      responses: {
        201: { description: 'The group', schema: groupView },
        404: { description: "a dongle is not the organization's" },
        409: { description: 'dongle_already_grouped or dongle_not_active' },
        422: { description: 'the same dongle twice, or an invalid body' },
      },
    },
    async (req, res) => {
      res.status(201).json(await groups.create(currentScope(res), res.locals.body, requestContext(req)));
    },
  );

  api.get(
    '/',
    { summary: "The organization's groups, newest first", tags, auth: 'session', permission: 'fleet.read', query: listQuery, responses: { 200: { description: 'A page of groups', schema: pageOf(groupView) } } },
    async (_req, res) => {
      res.json(await groups.list(currentScope(res), res.locals.query));
    },
  );

  api.get(
    '/:id',
    { summary: 'One group of the organization', tags, auth: 'session', permission: 'fleet.read', params: groupIdParams, responses: { 200: { description: 'The group', schema: groupView } } },
    async (_req, res) => {
      res.json(await groups.get(currentScope(res), res.locals.params.id));
    },
  );

  api.patch(
    '/:id',
    { summary: 'Change a group’s mode or name', tags, auth: 'session', permission: 'fleet.operate', params: groupIdParams, body: updateGroupBody, responses: { 200: { description: 'The group', schema: groupView } } },
    async (req, res) => {
      res.json(await groups.update(currentScope(res), res.locals.params.id, res.locals.body, requestContext(req)));
    },
  );

  api.delete(
    '/:id',
    { summary: 'Delete a group (the dongles stay claimed)', tags, auth: 'session', permission: 'fleet.operate', params: groupIdParams, responses: { 204: { description: 'Deleted' } } },
    async (req, res) => {
      await groups.remove(currentScope(res), res.locals.params.id, requestContext(req));
      res.status(204).end();
    },
  );
}
