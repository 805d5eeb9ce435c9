// Sign-up and email verification over HTTP on the real database.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../platform/secrets.ts';
import { createUser, uniqueEmail } from '../../../test/support/factories.ts';
import { emailsTo, tokenFromLink, waitForEmails } from '../../../test/support/mail.ts';
import { startTestApp, type TestApp } from '../../../test/support/test-app.ts';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.stop());

const password = 'a long and unusual passphrase 42';

async function signUp(email = uniqueEmail('signup')) {
  const res = await app.http.post('/api/auth/signup').set('Host', 'evil.example').send({ email, password });
  return { res, email };
}

describe('POST /api/auth/signup', () => {
  it('creates an unverified user and queues a verification email with a PUBLIC_URL link', async () => {
    const { res, email } = await signUp();
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ email, message: expect.any(String) });
    const user = await app.db.prisma.user.findUniqueOrThrow({ where: { email } });
    expect(user).toMatchObject({ role: 'user', status: 'active', emailVerifiedAt: null });
    expect(user.passwordHash).toMatch(/^\$argon2id\$v=19\$/);
    expect(user.passwordHash).toMatch(/[$,]m=19456[,$]/);
    expect(user.passwordHash).toMatch(/[$,]t=2[,$]/);
    const [mail] = await emailsTo(app.db, email);
    const { link, token } = tokenFromLink(mail!, '/verify-email');
    // The link comes from PUBLIC_URL, never from the Host header the client sent.
    expect(link.startsWith('http://fleet.test/verify-email?token=')).toBe(true);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const stored = await app.db.prisma.emailVerificationToken.findFirstOrThrow({ where: { userId: user.id } });
    // Only the SHA-256 of the emailed token is stored.
    expect(stored.tokenHash).toBe(sha256Hex(token));
    expect(stored.expiresAt.getTime() - stored.createdAt.getTime()).toBeGreaterThan(23.9 * 3_600_000);
    const audit = await app.db.prisma.auditLog.findFirst({ where: { action: 'auth.signup', targetId: user.id } });
    expect(audit).toMatchObject({ result: 'success', actorId: user.id });
    // Signing up creates the personal organization, owned by the new user, audited with it.
    const org = await app.db.prisma.organization.findUniqueOrThrow({ where: { personalOwnerUserId: user.id }, include: { memberships: true } });
    expect(org.memberships.map((m) => [m.userId, m.role])).toEqual([[user.id, 'owner']]);
    const created = await app.db.prisma.auditLog.findFirst({ where: { action: 'organization.create', targetId: org.id } });
    expect(created).toMatchObject({ actorId: user.id, organizationId: org.id });
  });

  it('normalises the email (trim, lowercase)', async () => {
    const email = uniqueEmail('mixed');
    const res = await app.http.post('/api/auth/signup').send({ email: `  ${email.toUpperCase()} `, password });
    expect(res.status).toBe(201);
    expect(await app.db.prisma.user.findUnique({ where: { email } })).not.toBeNull();
  });

  it('answers an address that already has an account exactly like a new one, and mails its owner instead', async () => {
    const existing = await createUser(app.db);
    const fresh = await signUp();
    const again = await app.http.post('/api/auth/signup').send({ email: existing.email, password });
    expect(again.status).toBe(fresh.res.status);
    expect(Object.keys(again.body)).toEqual(Object.keys(fresh.res.body));
    expect(again.body.message).toBe(fresh.res.body.message);
    const [notice] = await waitForEmails(app.db, existing.email);
    expect(notice!.subject).toMatch(/already have an account/);
    expect(notice!.text).not.toMatch(/token=/);
    expect(await app.db.prisma.user.count({ where: { email: existing.email } })).toBe(1);
  });

  it('refuses a short or common password with 422', async () => {
    const short = await app.http.post('/api/auth/signup').send({ email: uniqueEmail(), password: 'short' });
    expect(short.status).toBe(422);
    expect(short.body.error.details[0].path).toBe('body.password');
    const common = await app.http.post('/api/auth/signup').send({ email: uniqueEmail(), password: 'password1234' });
    expect(common.status).toBe(422);
  });

  it('refuses mass-assignment keys with 422 and creates nothing', async () => {
    for (const extra of [{ role: 'admin' }, { status: 'active' }, JSON.parse('{"__proto__": {"role": "admin"}}')]) {
      const email = uniqueEmail('mass');
      const res = await app.http.post('/api/auth/signup').set('Content-Type', 'application/json').send(JSON.stringify({ email, password, ...extra }));
      expect(res.status).toBe(422);
      expect(await app.db.prisma.user.findUnique({ where: { email } })).toBeNull();
    }
  });

  it('refuses a __proto__ key sent as raw JSON with 422', async () => {
    const email = uniqueEmail('proto');
    const res = await app.http.post('/api/auth/signup').set('Content-Type', 'application/json').send(`{"email":"${email}","password":"${password}","__proto__":{"role":"admin"}}`);
    expect(res.status).toBe(422);
    expect(await app.db.prisma.user.findUnique({ where: { email } })).toBeNull();
  });
});

describe('passwords with accents', () => {
  it('logs in with the same password typed in decomposed Unicode form (NFD), as some keyboards produce it', async () => {
    const email = uniqueEmail('accents');
    const composed = 'Crème brûlée for the whole café'.normalize('NFC');
    const decomposed = composed.normalize('NFD');
    expect(decomposed).not.toBe(composed);
    expect((await app.http.post('/api/auth/signup').send({ email, password: composed })).status).toBe(201);
    const login = await app.http.post('/api/auth/login').send({ email, password: decomposed });
    expect(login.status).toBe(200);
    const wrong = await app.http.post('/api/auth/login').send({ email, password: `${decomposed}!` });
    expect(wrong.status).toBe(401);
  });
});

describe('POST /api/auth/verify-email', () => {
  async function tokenFor(email: string) {
    const [mail] = await emailsTo(app.db, email);
    return tokenFromLink(mail!, '/verify-email').token;
  }

  it('verifies the email once; a second use is 400 invalid_token', async () => {
    const { email } = await signUp();
    const token = await tokenFor(email);
    const res = await app.http.post('/api/auth/verify-email').send({ token });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ emailVerified: true });
    const user = await app.db.prisma.user.findUniqueOrThrow({ where: { email } });
    expect(user.emailVerifiedAt).not.toBeNull();
    const again = await app.http.post('/api/auth/verify-email').send({ token });
    expect(again.status).toBe(400);
    expect(again.body.error.code).toBe('invalid_token');
  });

  it('refuses an expired token with 400', async () => {
    const { email } = await signUp();
    const token = await tokenFor(email);
    const user = await app.db.prisma.user.findUniqueOrThrow({ where: { email } });
    await app.db.prisma.emailVerificationToken.updateMany({ where: { userId: user.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    const res = await app.http.post('/api/auth/verify-email').send({ token });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_token');
    expect((await app.db.prisma.user.findUniqueOrThrow({ where: { email } })).emailVerifiedAt).toBeNull();
  });

  it('refuses an unknown token with 400', async () => {
    const res = await app.http.post('/api/auth/verify-email').send({ token: 'A'.repeat(43) });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_token');
  });

  it('lets exactly one of ten concurrent redemptions succeed', async () => {
    const { email } = await signUp();
    const token = await tokenFor(email);
    const statuses = await Promise.all(Array.from({ length: 10 }, () => app.http.post('/api/auth/verify-email').send({ token }).then((r) => r.status)));
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 400)).toHaveLength(9);
    const user = await app.db.prisma.user.findUniqueOrThrow({ where: { email } });
    expect(await app.db.prisma.auditLog.count({ where: { action: 'auth.email_verify', targetId: user.id, result: 'success' } })).toBe(1);
  });

  it('lets an unverified user log in but not act as verified', async () => {
    const { email } = await signUp();
    const login = await app.http.post('/api/auth/login').send({ email, password });
    expect(login.status).toBe(200);
    expect(login.body.user.emailVerified).toBe(false);
  });
});

describe('per-IP limits on sign-up and verification', () => {
  it('answers 429 with Retry-After past the sign-up limit for one client address', async () => {
    const limited = await startTestApp({ config: { trustProxyHops: 1, rateLimits: { ...app.config.rateLimits, signupIp: { limit: 2, windowSeconds: 600 }, verifyIp: { limit: 2, windowSeconds: 600 } } } });
    try {
      const ip = `10.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}`;
      const send = () => limited.http.post('/api/auth/signup').set('X-Forwarded-For', ip).send({ email: uniqueEmail('ip'), password });
      expect((await send()).status).toBe(201);
      expect((await send()).status).toBe(201);
      const refused = await send();
      expect(refused.status).toBe(429);
      expect(refused.body.error.code).toBe('rate_limited');
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
      // Another address is not affected.
      expect((await limited.http.post('/api/auth/signup').set('X-Forwarded-For', `${ip}1`).send({ email: uniqueEmail('ip'), password })).status).toBe(201);
      const verify = () => limited.http.post('/api/auth/verify-email').set('X-Forwarded-For', ip).send({ token: 'nope' });
      expect((await verify()).status).toBe(400);
      expect((await verify()).status).toBe(400);
      expect((await verify()).status).toBe(429);
    } finally {
      await limited.stop();
    }
  });
});
