// Sign-up, email verification, login and password reset. Every outcome that matters is audited
// in the transaction of its change; secrets (passwords, tokens) never reach an audit row or log.
import type { Config } from '../../config.ts';
import type { Database, Tx } from '../../platform/database.ts';
import { AppError, tooManyRequests } from '../../platform/errors.ts';
import type { BackgroundWorker } from '../../platform/lifecycle.ts';
import type { Logger } from '../../platform/logger.ts';
import { createRateLimit } from '../../platform/rate-limit.ts';
import { sha256Hex } from '../../platform/secrets.ts';
import { recordAudit, type RequestContext } from '../../platform/audit/audit-writer.ts';
import { enqueueEmail } from '../email/outbox.ts';
import { accountExistsEmail, passwordResetEmail, verificationEmail } from '../email/templates.ts';
import { findUserByEmail, recordSuccessfulLogin } from './login.repository.ts';
import { invalidToken, issueResetToken, issueVerificationToken, redeemResetToken, redeemVerificationToken } from './one-time-tokens.ts';
import type { PasswordHasher } from './password-hashing.ts';
import { normalizePassword } from '../../platform/password-policy.ts';
import { endSessions } from './session-revocation.ts';
import { accountSuspended, isActiveUser } from './user-status.ts';

export const invalidCredentials = () => new AppError(401, 'invalid_credentials', 'Email or password is incorrect.');

export interface AuthServiceDeps {
  db: Database;
  hasher: PasswordHasher;
  config: Pick<Config, 'publicUrl' | 'rateLimits'>;
  logger: Logger;
  /** The user's personal organization (features/organizations/personal.ts), to audit its creation at sign-up. */
  personalOrganizationId(tx: Tx, userId: string): Promise<string>;
}

const anonymous = { type: 'system' } as const;

export function createAuthService({ db, hasher, config, logger, personalOrganizationId }: AuthServiceDeps) {
  // Failed logins per account (keyed by the normalised email, so unknown emails lock the same way).
  const loginFailures = createRateLimit(db, { name: 'login-account', ...config.rateLimits.loginAccount });
  // Emails per address: caps how often anyone can make us mail someone. Over it, requests still
  // get their usual answer; only the email is not queued.
  const resetEmails = createRateLimit(db, { name: 'reset-account', ...config.rateLimits.resetAccount });
  const signupNotices = createRateLimit(db, { name: 'signup-notice', ...config.rateLimits.resetAccount });
  // Reset requests answered before their work is done (see requestPasswordReset).
  const pending = new Set<Promise<void>>();

  async function audit(event: Parameters<typeof recordAudit>[1]) {
    await db.prisma.$transaction((tx) => recordAudit(tx, event));
  }

  return {
    loginFailures,

    /**
     * Creates an unverified user and queues the verification email. An address that already has
     * an account gets a "you already have an account" email instead, and the caller the same
     * answer: sign-up is not an oracle for which addresses are registered.
     */
    async signup(email: string, password: string, context: RequestContext): Promise<void> {
      // Hashed before the lookup so both paths cost one argon2 hash.
      const passwordHash = await hasher.hash(password);
      const existing = await db.prisma.user.findUnique({ where: { email }, select: { id: true } });
      if (!existing) {
        try {
          await db.prisma.$transaction(async (tx) => {
            const user = await tx.user.create({ data: { email, passwordHash } });
            const token = await issueVerificationToken(tx, user.id);
            await enqueueEmail(tx, verificationEmail(config.publicUrl, email, token));
            await recordAudit(tx, { actor: { type: 'user', id: user.id }, action: 'auth.signup', targetType: 'user', targetId: user.id, context });
            // The personal organization was created with the user (a database trigger, so every
            // way of inserting a user gets one); recorded here, in the same transaction.
            const org = await personalOrganizationId(tx, user.id);
            await recordAudit(tx, { actor: { type: 'user', id: user.id }, action: 'organization.create', targetType: 'organization', targetId: org, organizationId: org, details: { personal: true }, context });
          });
          return;
        } catch (error) {
          // A concurrent sign-up took the address: answer as for an existing account.
          if ((error as { code?: string }).code !== 'P2002') throw error;
        }
      }
      const owner = existing ?? (await db.prisma.user.findUniqueOrThrow({ where: { email }, select: { id: true } }));
      const notify = (await signupNotices.hit(email)).allowed;
      await db.prisma.$transaction(async (tx) => {
        if (notify) await enqueueEmail(tx, accountExistsEmail(config.publicUrl, email));
        await recordAudit(tx, { actor: anonymous, action: 'auth.signup', targetType: 'user', targetId: owner.id, result: 'failure', details: { reason: 'email_taken', notified: notify }, context });
      });
    },

    async verifyEmail(token: string, context: RequestContext): Promise<void> {
      const userId = await db.prisma.$transaction(async (tx) => {
        const redeemedBy = await redeemVerificationToken(tx, token);
        if (!redeemedBy) return null;
        await tx.user.updateMany({ where: { id: redeemedBy, emailVerifiedAt: null }, data: { emailVerifiedAt: new Date() } });
        await recordAudit(tx, { actor: { type: 'user', id: redeemedBy }, action: 'auth.email_verify', targetType: 'user', targetId: redeemedBy, context });
        return redeemedBy;
      });
      if (!userId) {
        await audit({ actor: anonymous, action: 'auth.email_verify', result: 'failure', details: { reason: 'invalid_token' }, context });
        throw invalidToken();
      }
    },

    /**
     * Checks the credentials and returns the user. An unknown email costs the same argon2
     * verify as a wrong password, counts towards the same per-account lockout and gets the same
     * answer. Every outcome is audited.
     */
    async authenticate(email: string, rawPassword: string, context: RequestContext) {
      const password = normalizePassword(rawPassword);
      const user = await findUserByEmail(db, email);
      const actor = user ? ({ type: 'user', id: user.id } as const) : anonymous;
      // The attempt is counted before the (slow) verify, so concurrent guesses cannot all pass
      // the check before any failure is recorded; a right password gives its hit back.
      const lock = await loginFailures.hit(email);
      if (!lock.allowed) {
        await audit({ actor, action: 'auth.login', targetType: 'user', targetId: user?.id ?? null, result: 'denied', details: { reason: 'locked_out' }, context });
        throw tooManyRequests(lock.retryAfterSeconds, 'Too many failed sign-ins for this account; try again later or reset your password.');
      }
      const ok = await hasher.verify(user?.passwordHash ?? null, password);
      if (!user || !ok) {
        await audit({ actor, action: 'auth.login', targetType: 'user', targetId: user?.id ?? null, result: 'failure', details: { reason: 'invalid_credentials' }, context });
        throw invalidCredentials();
      }
      await loginFailures.refund(email);
      if (!isActiveUser(user)) {
        await audit({ actor, action: 'auth.login', targetType: 'user', targetId: user.id, result: 'denied', details: { reason: 'account_suspended' }, context });
        throw accountSuspended();
      }
      // A hash made with weaker parameters than today's is replaced while we know the password.
      const rehash = hasher.needsRehash(user.passwordHash) ? await hasher.hash(password) : undefined;
      return recordSuccessfulLogin(db, user.id, { rehash, context });
    },

    async recordLogout(userId: string, context: RequestContext) {
      await audit({ actor: { type: 'user', id: userId }, action: 'auth.logout', targetType: 'user', targetId: userId, context });
    },

    /**
     * Answers at once and does the work afterwards, so known and unknown addresses answer the
     * same, in the same time. For a known address it issues a reset token (older ones stop
     * working) and queues the email; for any address it writes one audit row.
     */
    requestPasswordReset(email: string, context: RequestContext): void {
      const work = (async () => {
        const allowed = (await resetEmails.hit(email)).allowed;
        const user = await db.prisma.user.findUnique({ where: { email }, select: { id: true } });
        await db.prisma.$transaction(async (tx) => {
          if (user && allowed) {
            const token = await issueResetToken(tx, user.id);
            await enqueueEmail(tx, passwordResetEmail(config.publicUrl, email, token));
          }
          const reason = !user ? 'unknown_email' : !allowed ? 'email_rate_limited' : undefined;
          await recordAudit(tx, {
            actor: user ? { type: 'user', id: user.id } : anonymous,
            action: 'auth.password_reset_request',
            targetType: 'user',
            targetId: user?.id ?? null,
            result: reason ? 'failure' : 'success',
            details: reason ? { reason } : undefined,
            context,
          });
        });
      })()
        .catch((error: unknown) => logger.error({ err: error instanceof Error ? error.message : String(error) }, 'password reset request failed'))
        .finally(() => pending.delete(work));
      pending.add(work);
    },

    /** Sets the new password, ends every session of the user and lifts a login lockout. */
    async confirmPasswordReset(token: string, newPassword: string, context: RequestContext): Promise<void> {
      // Cheap check first, so a bad token does not cost an argon2 hash; the redemption below is
      // what decides.
      const candidate = await db.prisma.passwordResetToken.findUnique({ where: { tokenHash: sha256Hex(token) }, select: { usedAt: true, expiresAt: true } });
      const user =
        candidate && !candidate.usedAt && candidate.expiresAt > new Date()
          ? await (async () => {
              const passwordHash = await hasher.hash(newPassword);
              return db.prisma.$transaction(async (tx) => {
                const userId = await redeemResetToken(tx, token);
                if (!userId) return null;
                const before = await tx.user.findUniqueOrThrow({ where: { id: userId }, select: { email: true, emailVerifiedAt: true } });
                // Following the emailed link proves the address, as verification would.
                await tx.user.update({ where: { id: userId }, data: { passwordHash, emailVerifiedAt: before.emailVerifiedAt ?? new Date() } });
                const sessionsEnded = await endSessions(tx, userId);
                await recordAudit(tx, { actor: { type: 'user', id: userId }, action: 'auth.password_reset', targetType: 'user', targetId: userId, details: { sessionsEnded }, context });
                return before;
              });
            })()
          : null;
      if (!user) {
        await audit({ actor: anonymous, action: 'auth.password_reset', result: 'failure', details: { reason: 'invalid_token' }, context });
        throw invalidToken();
      }
      await loginFailures.reset(user.email);
    },

    /** Lets shutdown wait for reset requests that were answered but not yet processed. */
    worker(): BackgroundWorker {
      return {
        name: 'password-reset-requests',
        start() {},
        async stop() {
          await Promise.allSettled([...pending]);
        },
      };
    },
  };
}

export type AuthService = ReturnType<typeof createAuthService>;
