import { z } from 'zod';
import { ORG_ROLES } from './policy.ts';

const uuid = (name: string) => z.uuid({ message: `${name} must be a uuid.` });
const orgName = z.string({ message: 'name must be a string.' }).trim().min(1, 'name must not be empty.').max(100, 'name must be at most 100 characters.');
const role = z.enum(ORG_ROLES, { message: 'role must be owner, admin, operator or viewer.' });
/** Invitations carry any role but owner: ownership moves only by transfer. */
const invitableRole = z.enum(['admin', 'operator', 'viewer'], { message: 'role must be admin, operator or viewer.' });

export const orgParams = z.strictObject({ orgId: uuid('orgId') });
export const memberParams = z.strictObject({ orgId: uuid('orgId'), userId: uuid('userId') });
export const invitationParams = z.strictObject({ orgId: uuid('orgId'), invitationId: uuid('invitationId') });
export const apiKeyParams = z.strictObject({ orgId: uuid('orgId'), keyId: uuid('keyId') });

export const createOrgBody = z.strictObject({ name: orgName });
export const renameOrgBody = z.strictObject({ name: orgName });
export const transferBody = z.strictObject({ userId: uuid('userId') });
export const changeRoleBody = z.strictObject({ role });
export const inviteBody = z.strictObject({
  email: z.email({ message: 'email must be an email address.' }).max(254).transform((e) => e.toLowerCase()),
  role: invitableRole,
});
export const acceptBody = z.strictObject({ token: z.string({ message: 'token must be a string.' }).min(20).max(200) });

export const API_KEY_DEFAULT_DAYS = 90;
export const API_KEY_MAX_DAYS = 365;
export const createApiKeyBody = z.strictObject({
  name: z.string({ message: 'name must be a string.' }).trim().min(1, 'name must not be empty.').max(100),
  scope: z.enum(['read', 'operate', 'admin'], { message: 'scope must be read, operate or admin.' }),
  expiresInDays: z
    .number({ message: 'expiresInDays must be a number.' })
    .int('expiresInDays must be a whole number.')
    .min(1, 'expiresInDays must be at least 1.')
    .max(API_KEY_MAX_DAYS, `expiresInDays must be at most ${API_KEY_MAX_DAYS} (one year).`)
    .default(API_KEY_DEFAULT_DAYS),
});
export type CreateApiKeyBody = z.output<typeof createApiKeyBody>;

export const orgView = z.object({
  id: z.uuid(),
  name: z.string(),
  personal: z.boolean(),
  /** The caller's role in it. */
  role,
  createdAt: z.string(),
});
export type OrgView = z.output<typeof orgView>;

export const memberView = z.object({ userId: z.uuid(), email: z.string(), role, joinedAt: z.string() });
export type MemberView = z.output<typeof memberView>;

export const invitationView = z.object({
  id: z.uuid(),
  email: z.string(),
  role: invitableRole,
  status: z.enum(['pending', 'accepted', 'revoked', 'expired']),
  expiresAt: z.string(),
  invitedByUserId: z.uuid().nullable(),
  createdAt: z.string(),
});
export type InvitationView = z.output<typeof invitationView>;

export const apiKeyView = z.object({
  id: z.uuid(),
  userId: z.uuid(),
  name: z.string(),
  scope: z.enum(['read', 'operate', 'admin']),
  prefix: z.string(),
  expiresAt: z.string(),
  lastUsedAt: z.string().nullable(),
  lastUsedIp: z.string().nullable(),
  revokedAt: z.string().nullable(),
  createdAt: z.string(),
});
export type ApiKeyView = z.output<typeof apiKeyView>;
export const createdApiKeyView = apiKeyView.extend({ key: z.string().describe('The key itself, shown only in this response.') });
