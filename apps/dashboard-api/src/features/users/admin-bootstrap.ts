// The first administrator. With ADMIN_EMAIL (and ADMIN_PASSWORD) set, that account is created
// or promoted at every start. With neither, the very first start of an empty database creates
// DEFAULT_ADMIN_EMAIL with a random one-time password, which is returned for printing once.
// Several instances may start at once against one database: whoever loses the race on the unique
// email (or on the promotion) reports "unchanged" instead of failing the start.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Prisma, type Database } from '../../platform/database.ts';
import { generateSecret } from '../../platform/secrets.ts';
import { recordAudit } from '../../platform/audit/audit-writer.ts';
import type { PasswordHasher } from '../auth/password-hashing.ts';

/**
 * The first start's administrator when ADMIN_EMAIL is unset. It must pass the login form's email
 * validation (zod's z.email() wants a dotted domain, so `admin@localhost` could never log in).
 */
export const DEFAULT_ADMIN_EMAIL = 'admin@fleet.local';

export interface BootstrapResult {
  email: string;
  action: 'created' | 'promoted' | 'unchanged';
  /** Only when the password was generated here: show it once, store it nowhere. */
  oneTimePassword?: string;
}

export async function ensureAdmin(
  db: Database,
  hasher: PasswordHasher,
  admin: { email: string; password: string | undefined } | undefined,
): Promise<BootstrapResult | undefined> {
  if (!admin) {
    const anyAdmin = await db.prisma.user.findFirst({ where: { role: 'admin' }, select: { id: true } });
    if (anyAdmin) return undefined;
    admin = { email: DEFAULT_ADMIN_EMAIL, password: undefined };
  }
  const email = admin.email.toLowerCase();
  const existing = await db.prisma.user.findUnique({ where: { email } });
  if (existing) return promote(db, existing);
  const oneTimePassword = admin.password ? undefined : generateSecret(18);
  const passwordHash = await hasher.hash(admin.password ?? oneTimePassword!);
  try {
    await db.prisma.$transaction(async (tx) => {
      const user = await tx.user.create({ data: { email, passwordHash, role: 'admin', emailVerifiedAt: new Date() } });
      await recordAudit(tx, { actor: { type: 'system' }, action: 'admin.bootstrap.create', targetType: 'user', targetId: user.id, details: { email } });
    });
  } catch (error) {
    // Another instance created this account between our lookup and our insert. Its password
    // (printed by that instance, if generated) is the one that counts: ours was never stored.
    if (isUniqueViolation(error)) return { email, action: 'unchanged' };
    throw error;
  }
  return { email, action: 'created', oneTimePassword };
}

async function promote(db: Database, user: { id: string; email: string; role: 'user' | 'admin' }): Promise<BootstrapResult> {
  if (user.role === 'admin') return { email: user.email, action: 'unchanged' };
  // Conditional update: of two instances promoting at once, only one changes the row and audits.
  const promoted = await db.prisma.$transaction(async (tx) => {
    const { count } = await tx.user.updateMany({ where: { id: user.id, role: { not: 'admin' } }, data: { role: 'admin' } });
    if (count === 0) return false;
    await recordAudit(tx, { actor: { type: 'system' }, action: 'admin.bootstrap.promote', targetType: 'user', targetId: user.id, details: { role: { from: user.role, to: 'admin' } } });
    return true;
  });
  return { email: user.email, action: promoted ? 'promoted' : 'unchanged' };
}

function isUniqueViolation(error: unknown): boolean {
  return error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002';
}

/**
 * Shows a generated first-admin password once. In development it is printed to the terminal.
 * In production stdout is the shipped log stream, so it goes to a file only the service user can
 * read (DATA_DIR/first-admin-password, mode 0600) and only that path is printed.
 */
export function announceOneTimePassword(
  result: BootstrapResult,
  options: { production: boolean; dataDir: string; write: (text: string) => void },
): void {
  if (!result.oneTimePassword) return;
  if (!options.production) {
    options.write(`\n  First start: administrator ${result.email}\n  One-time password: ${result.oneTimePassword}\n  Log in and change it now; it will not be shown again.\n\n`);
    return;
  }
  mkdirSync(options.dataDir, { recursive: true });
  const file = path.join(options.dataDir, 'first-admin-password');
  writeFileSync(file, `${result.email}\n${result.oneTimePassword}\n`, { mode: 0o600, flag: 'wx' });
  options.write(`\n  First start: administrator ${result.email}; its one-time password is in ${file} (mode 0600). Log in, change it, delete the file.\n\n`);
}
