import { z } from 'zod';

export const GROUP_MODES = ['ACTIVE', 'PAUSED'] as const;

const groupName = z.string({ message: 'name must be a string or null.' }).trim().min(1, 'name must not be empty.').max(100, 'name must be at most 100 characters.').nullable();

export const groupIdParams = z.strictObject({ id: z.uuid({ message: 'id must be a uuid.' }) });

export const createGroupBody = z
  .strictObject({
    dongleAId: z.uuid({ message: 'dongleAId must be a uuid.' }),
    dongleBId: z.uuid({ message: 'dongleBId must be a uuid.' }),
    mode: z.enum(GROUP_MODES, { message: 'mode must be ACTIVE or PAUSED.' }).default('ACTIVE'),
    name: groupName.optional(),
  })
  .refine((body) => body.dongleAId !== body.dongleBId, { path: ['dongleBId'], message: 'dongleBId must differ from dongleAId: a group pairs two dongles.' });
export type CreateGroupBody = z.output<typeof createGroupBody>;

export const updateGroupBody = z
  .strictObject({
    mode: z.enum(GROUP_MODES, { message: 'mode must be ACTIVE or PAUSED.' }).optional(),
    name: groupName.optional(),
  })
  .refine((body) => body.mode !== undefined || body.name !== undefined, { message: 'Send mode, name or both.' });
export type UpdateGroupBody = z.output<typeof updateGroupBody>;

export const groupView = z.object({
  id: z.uuid(),
  name: z.string().nullable(),
  mode: z.enum(GROUP_MODES),
  dongleAId: z.uuid(),
  dongleBId: z.uuid(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});
export type GroupView = z.infer<typeof groupView>;
