// Email verification and password reset tokens (§6): 32 random bytes, base64url, stored only as
// their SHA-256. Redemption is one UPDATE … WHERE unused AND unexpired RETURNING, so of any
// number of concurrent redemptions exactly one gets the row.
import type { Tx } from '../../platform/database.ts';
import { badRequest } from '../../platform/errors.ts';
import { generateSecret, sha256Hex } from '../../platform/secrets.ts';

export const VERIFICATION_TTL_MS = 24 * 3_600_000;
export const RESET_TTL_MS = 30 * 60_000;

export const invalidToken = () => badRequest('invalid_token', 'This link is invalid, expired or already used.');

type TokenTx = Pick<Tx, 'emailVerificationToken' | 'passwordResetToken' | '$queryRaw'>;

/** Creates a verification token for the user; returns the token for the email, never stored. */
export async function issueVerificationToken(tx: TokenTx, userId: string): Promise<string> {
  const token = generateSecret();
  await tx.emailVerificationToken.create({ data: { userId, tokenHash: sha256Hex(token), expiresAt: new Date(Date.now() + VERIFICATION_TTL_MS) } });
  return token;
}

/** A new reset token; every older unused one of the user stops working (the newest wins). */
export async function issueResetToken(tx: TokenTx, userId: string): Promise<string> {
  await tx.passwordResetToken.deleteMany({ where: { userId, usedAt: null } });
  const token = generateSecret();
  await tx.passwordResetToken.create({ data: { userId, tokenHash: sha256Hex(token), expiresAt: new Date(Date.now() + RESET_TTL_MS) } });
  return token;
}

/** Marks the verification token consumed and returns its user, or null when not redeemable. */
export async function redeemVerificationToken(tx: TokenTx, token: string): Promise<string | null> {
  const rows = await tx.$queryRaw<Array<{ user_id: string }>>`
    UPDATE email_verification_tokens SET consumed_at = now()
     WHERE token_hash = ${sha256Hex(token)} AND consumed_at IS NULL AND expires_at > now()
    RETURNING user_id`;
  return rows[0]?.user_id ?? null;
}

export async function redeemResetToken(tx: TokenTx, token: string): Promise<string | null> {
  const rows = await tx.$queryRaw<Array<{ user_id: string }>>`
    UPDATE password_reset_tokens SET used_at = now()
     WHERE token_hash = ${sha256Hex(token)} AND used_at IS NULL AND expires_at > now()
    RETURNING user_id`;
  return rows[0]?.user_id ?? null;
}
