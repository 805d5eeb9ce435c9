import type { ApiRouter } from '../../platform/http/api-router.ts';
import { requestContext } from '../../platform/audit/audit-writer.ts';
import { userView } from '../auth/auth.schemas.ts';
import { currentUser } from '../auth/principal.ts';
import { adminUserPage, adminUserParams, adminUserPatch, adminUsersQuery } from './admin-users.schemas.ts';
import type { AdminUsersService } from './admin-users.service.ts';

export function mountAdminUserRoutes(api: ApiRouter, deps: { users: AdminUsersService }) {
  api.get(
    '/',
    {
      summary: 'Users, newest first; search by part of the email, filter by status or role',
      tags: ['admin'],
      auth: 'admin',
      query: adminUsersQuery,
      responses: { 200: { description: 'A page of users', schema: adminUserPage }, 403: { description: 'Not an administrator' } },
    },
    async (_req, res) => {
      res.json(await deps.users.list(res.locals.query));
    },
  );

  api.patch(
    '/:id',
    {
      summary: "Change a user's role or status; suspension ends their sessions and revokes their agent tokens at once",
      tags: ['admin'],
      auth: 'admin',
      params: adminUserParams,
      body: adminUserPatch,
      responses: {
        200: { description: 'The updated user', schema: userView },
        403: { description: 'Not an administrator' },
        404: { description: 'No such user' },
        409: { description: 'cannot_change_own_access' },
      },
    },
    async (req, res) => {
      res.json(await deps.users.update(currentUser(res), res.locals.params.id, res.locals.body, requestContext(req)));
    },
  );
}
