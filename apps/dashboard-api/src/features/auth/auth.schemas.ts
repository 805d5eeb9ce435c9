import { z } from 'zod';
import { passwordSchema } from '../../platform/password-policy.ts';

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

export const signupBody = z.strictObject({ email: emailSchema, password: passwordSchema });
export type SignupBody = z.infer<typeof signupBody>;

/** One-time tokens are checked against the database; any string gets the same 400 when wrong. */
const oneTimeToken = z.string().min(1).max(512);

export const verifyEmailBody = z.strictObject({ token: oneTimeToken });
export const passwordResetRequestBody = z.strictObject({ email: emailSchema });
export const passwordResetConfirmBody = z.strictObject({ token: oneTimeToken, password: passwordSchema });

export const signupView = z.object({ email: z.string(), message: z.string() });
export const acceptedView = z.object({ message: z.string() });
export const verifiedView = z.object({ emailVerified: z.literal(true) });

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
