import { z } from 'zod';
import { listQuery, pageOf } from '../../platform/pagination.ts';
import { userView } from '../auth/auth.schemas.ts';

const role = z.enum(['user', 'admin']);
const status = z.enum(['active', 'suspended']);

export const adminUsersQuery = listQuery.extend({
  /** Part of the address, case-insensitive. */
  email: z.string().trim().toLowerCase().min(1).max(254).optional(),
  status: status.optional(),
  role: role.optional(),
});
export type AdminUsersQuery = z.output<typeof adminUsersQuery>;

export const adminUserParams = z.strictObject({ id: z.uuid({ message: 'Not a user id.' }) });

export const adminUserPatch = z
  .strictObject({ role: role.optional(), status: status.optional() })
  .refine((body) => body.role !== undefined || body.status !== undefined, { message: 'Give role, status or both.' });
export type AdminUserPatch = z.output<typeof adminUserPatch>;

export const adminUserPage = pageOf(userView);
