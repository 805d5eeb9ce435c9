import { z } from 'zod';
import { listQuery, pageOf } from '../../platform/pagination.ts';
import { passwordSchema } from '../../platform/password-policy.ts';

export const changePasswordBody = z.strictObject({
  // Any length: a wrong current password is just wrong.
  currentPassword: z.string().min(1).max(1024),
  newPassword: passwordSchema,
});

export const sessionParams = z.strictObject({ id: z.uuid({ message: 'Not a session id.' }) });
export const sessionsQuery = listQuery;

export const sessionView = z.object({
  /** sessions.public_id; the sid (a bearer secret) never leaves the server */
  id: z.uuid(),
  current: z.boolean(),
  createdAt: z.iso.datetime(),
  /** Within a few minutes: the store is written at most that often. */
  lastActiveAt: z.iso.datetime(),
  expiresAt: z.iso.datetime(),
  ip: z.string().nullable(),
  userAgent: z.string().nullable(),
});
export type SessionView = z.infer<typeof sessionView>;

export const sessionPage = pageOf(sessionView);
export const revokedView = z.object({ revoked: z.number().int() });
