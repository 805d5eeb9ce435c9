// Password reset over HTTP: the request answers the same for every address, the newest link wins,
// links are single use (even under concurrency) and expire, and confirming ends every session.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLoggedInUser, createUser, login, uniqueEmail } from '../../../test/support/factories.ts';
import { emailsTo, sleep, tokenFromLink, waitForEmails } from '../../../test/support/mail.ts';
import { startTestApp, testConfig, type TestApp } from '../../../test/support/test-app.ts';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ config: { rateLimits: { ...testConfig().rateLimits, loginAccount: { limit: 2, windowSeconds: 900 } } } });
});
afterAll(() => app.stop());

const newPassword = 'a brand new and long passphrase';
const requestReset = (email: string) => app.http.post('/api/auth/password-reset/request').send({ email });

async function resetTokenFor(email: string, nth = 1) {
  const mails = await waitForEmails(app.db, email, nth);
  return tokenFromLink(mails[nth - 1]!, '/reset-password').token;
}

describe('POST /api/auth/password-reset/request', () => {
  it('answers 202 with the same body and headers for a known and an unknown address', async () => {
    const user = await createUser(app.db);
    const known = await requestReset(user.email);
    const unknown = await requestReset(uniqueEmail('nobody'));
    expect(known.status).toBe(202);
    expect(unknown.status).toBe(202);
    expect(unknown.body).toEqual(known.body);
    const headerNames = (res: typeof known) => Object.keys(res.headers).filter((name) => name !== 'x-request-id' && name !== 'date').sort();
    expect(headerNames(unknown)).toEqual(headerNames(known));
    expect(unknown.headers['content-length']).toBe(known.headers['content-length']);
    const [mail] = await waitForEmails(app.db, user.email);
    const { link } = tokenFromLink(mail!, '/reset-password');
    expect(link.startsWith('http://fleet.test/reset-password?token=')).toBe(true);
  });

  it('makes only the newest link work', async () => {
    const user = await createUser(app.db);
    await requestReset(user.email);
    const first = await resetTokenFor(user.email, 1);
    await requestReset(user.email);
    const second = await resetTokenFor(user.email, 2);
    const old = await app.http.post('/api/auth/password-reset/confirm').send({ token: first, password: newPassword });
    expect(old.status).toBe(400);
    expect(old.body.error.code).toBe('invalid_token');
    expect((await app.http.post('/api/auth/password-reset/confirm').send({ token: second, password: newPassword })).status).toBe(204);
  });

  it('stops emailing one address after its per-address limit, still answering 202', async () => {
    const user = await createUser(app.db);
    for (let i = 0; i < 5; i++) expect((await requestReset(user.email)).status).toBe(202);
    await waitForEmails(app.db, user.email, 3);
    await sleep(300);
    expect(await emailsTo(app.db, user.email)).toHaveLength(3);
  });
});

describe('POST /api/auth/password-reset/confirm', () => {
  it('sets the new password, ends every session of the user, and the link works once', async () => {
    const user = await createUser(app.db);
    const a = await login(app.url, user.email);
    const b = await login(app.url, user.email);
    await requestReset(user.email);
    const token = await resetTokenFor(user.email);
    const res = await app.http.post('/api/auth/password-reset/confirm').send({ token, password: newPassword });
    expect(res.status).toBe(204);
    expect(await app.db.prisma.session.count({ where: { userId: user.id } })).toBe(0);
    expect((await a.agent.get('/api/auth/session')).status).toBe(401);
    expect((await b.agent.get('/api/auth/session')).status).toBe(401);
    expect((await app.http.post('/api/auth/login').send({ email: user.email, password: user.password })).status).toBe(401);
    await login(app.url, user.email, newPassword);
    const reuse = await app.http.post('/api/auth/password-reset/confirm').send({ token, password: 'yet another long passphrase' });
    expect(reuse.status).toBe(400);
    expect(reuse.body.error.code).toBe('invalid_token');
    const audit = await app.db.prisma.auditLog.findFirstOrThrow({ where: { action: 'auth.password_reset', targetId: user.id } });
    expect(audit.details).toMatchObject({ sessionsEnded: 2 });
  });

  it('refuses an expired link with 400', async () => {
    const user = await createUser(app.db);
    await requestReset(user.email);
    const token = await resetTokenFor(user.email);
    const stored = await app.db.prisma.passwordResetToken.findFirstOrThrow({ where: { userId: user.id } });
    expect(stored.expiresAt.getTime() - stored.createdAt.getTime()).toBeLessThanOrEqual(30 * 60_000 + 1_000);
    await app.db.prisma.passwordResetToken.update({ where: { id: stored.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    const res = await app.http.post('/api/auth/password-reset/confirm').send({ token, password: newPassword });
    expect(res.status).toBe(400);
    await login(app.url, user.email, user.password);
  });

  it('lets exactly one of ten concurrent redemptions succeed', async () => {
    const user = await createUser(app.db);
    await requestReset(user.email);
    const token = await resetTokenFor(user.email);
    const statuses = await Promise.all(
      Array.from({ length: 10 }, (_, i) => app.http.post('/api/auth/password-reset/confirm').send({ token, password: `${newPassword} ${i}` }).then((r) => r.status)),
    );
    expect(statuses.filter((s) => s === 204)).toHaveLength(1);
    expect(statuses.filter((s) => s === 400)).toHaveLength(9);
    expect(await app.db.prisma.auditLog.count({ where: { action: 'auth.password_reset', targetId: user.id, result: 'success' } })).toBe(1);
  });

  it('applies the password policy (422) without using up the link', async () => {
    const user = await createUser(app.db);
    await requestReset(user.email);
    const token = await resetTokenFor(user.email);
    const weak = await app.http.post('/api/auth/password-reset/confirm').send({ token, password: 'short' });
    expect(weak.status).toBe(422);
    expect((await app.http.post('/api/auth/password-reset/confirm').send({ token, password: newPassword })).status).toBe(204);
  });

  it('works during a login lockout, and lifts it', async () => {
    const user = await createUser(app.db);
    for (let i = 0; i < 2; i++) expect((await app.http.post('/api/auth/login').send({ email: user.email, password: 'wrong password number x' })).status).toBe(401);
    expect((await app.http.post('/api/auth/login').send({ email: user.email, password: user.password })).status).toBe(429);
    expect((await requestReset(user.email)).status).toBe(202);
    const token = await resetTokenFor(user.email);
    expect((await app.http.post('/api/auth/password-reset/confirm').send({ token, password: newPassword })).status).toBe(204);
    expect((await app.http.post('/api/auth/login').send({ email: user.email, password: newPassword })).status).toBe(200);
  });

  it('marks the address verified (following the link proves it)', async () => {
    const user = await createUser(app.db, { verified: false });
    await requestReset(user.email);
    const token = await resetTokenFor(user.email);
    await app.http.post('/api/auth/password-reset/confirm').send({ token, password: newPassword });
    expect((await app.db.prisma.user.findUniqueOrThrow({ where: { id: user.id } })).emailVerifiedAt).not.toBeNull();
  });

  it('refuses unknown keys with 422', async () => {
    const res = await app.http.post('/api/auth/password-reset/confirm').send({ token: 'x', password: newPassword, email: 'a@b.c' });
    expect(res.status).toBe(422);
  });

  it('ends sessions even of a logged-in caller who resets', async () => {
    const { user, agent } = await createLoggedInUser(app.db, app.url);
    await requestReset(user.email);
    const token = await resetTokenFor(user.email);
    expect((await agent.post('/api/auth/password-reset/confirm').send({ token, password: newPassword })).status).toBe(204);
    expect((await agent.get('/api/auth/session')).status).toBe(401);
  });
});
