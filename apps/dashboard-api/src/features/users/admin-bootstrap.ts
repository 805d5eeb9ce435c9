// The first administrator. With ADMIN_EMAIL (and ADMIN_PASSWORD) set, that account is created
// or promoted at every start. With neither, the very first start of an empty database creates
// admin@localhost with a random one-time password, which is returned for printing once.
import type { Database } from '../../platform/database.ts';
import { generateSecret } from '../../platform/secrets.ts';
import { recordAudit } from '../audit/audit.writer.ts';
import type { PasswordHasher } from '../auth/password-hashing.ts';

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
    admin = { email: 'admin@localhost', password: undefined };
  }
  const email = admin.email.toLowerCase();
  const existing = await db.prisma.user.findUnique({ where: { email } });
  if (existing) {
    if (existing.role === 'admin') return { email, action: 'unchanged' };
    await db.prisma.$transaction(async (tx) => {
      await tx.user.update({ where: { id: existing.id }, data: { role: 'admin' } });
      await recordAudit(tx, { actor: { type: 'system' }, action: 'admin.bootstrap.promote', targetType: 'user', targetId: existing.id, details: { role: { from: existing.role, to: 'admin' } } });
    });
    return { email, action: 'promoted' };
  }
  const oneTimePassword = admin.password ? undefined : generateSecret(18);
  const passwordHash = await hasher.hash(admin.password ?? oneTimePassword!);
  await db.prisma.$transaction(async (tx) => {
    const user = await tx.user.create({ data: { email, passwordHash, role: 'admin', emailVerifiedAt: new Date() } });
    await recordAudit(tx, { actor: { type: 'system' }, action: 'admin.bootstrap.create', targetType: 'user', targetId: user.id, details: { email } });
  });
  return { email, action: 'created', oneTimePassword };
}
