import { z } from 'zod';

/** Emails are trimmed and lowercased before validation and every lookup. */
export const emailSchema = z
  .string()
  .trim()
  .toLowerCase()
  .max(254)
  .pipe(z.email({ message: 'Enter a valid email address.' }));

export const loginBody = z.strictObject({
  email: emailSchema,
  // Length is not checked here: a wrong password of any length is just a wrong password.
  password: z.string().min(1).max(1024),
});
export type LoginBody = z.infer<typeof loginBody>;

export const userView = z.object({
  id: z.uuid(),
  email: z.string(),
  role: z.enum(['user', 'admin']),
  status: z.enum(['active', 'suspended']),
  emailVerified: z.boolean(),
  createdAt: z.iso.datetime(),
  lastLoginAt: z.iso.datetime().nullable(),
});
export type UserView = z.infer<typeof userView>;

export const sessionView = z.object({ user: userView, csrfToken: z.string() });
