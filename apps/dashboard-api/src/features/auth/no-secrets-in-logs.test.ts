// A whole account flow at the most verbose log level, then a search of every captured log line
// (and of the user's audit rows) for the passwords, tokens, cookies and CSRF tokens it used.
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueEmail } from '../../../test/support/factories.ts';
import { tokenFromLink, waitForEmails } from '../../../test/support/mail.ts';
import { startTestApp, type TestApp } from '../../../test/support/test-app.ts';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ config: { logLevel: 'trace' } });
});
afterAll(() => app.stop());

describe('secrets in logs', () => {
  it('never logs a password, token, cookie or CSRF token of a whole account flow', async () => {
    const secrets: string[] = [];
    const keep = (...values: string[]) => (secrets.push(...values), values[0]!);
    const email = uniqueEmail('secrets');
    const first = keep('first secret passphrase 9131');
    const second = keep('second secret passphrase 2207');
    const third = keep('third secret passphrase 4410');
    keep('wrong guess passphrase 5561', 'unknown user passphrase 7782');

    expect((await app.http.post('/api/auth/signup').send({ email, password: first })).status).toBe(201);
    const [verification] = await waitForEmails(app.db, email);
    const verifyToken = keep(tokenFromLink(verification!, '/verify-email').token);
    expect((await app.http.post('/api/auth/verify-email').send({ token: verifyToken })).status).toBe(200);

    const client = supertest.agent(app.url);
    const loggedIn = await client.post('/api/auth/login').send({ email, password: first });
    expect(loggedIn.status).toBe(200);
    const cookie = String(loggedIn.headers['set-cookie']?.[0]).split(';')[0]!;
    keep(cookie.split('=')[1]!, decodeURIComponent(cookie.split('=')[1]!).replace(/^s:/, '').split('.')[0]!);
    const csrf = keep(loggedIn.body.csrfToken);
    await client.get('/api/auth/session');
    await client.get('/api/me/sessions');
    await client.post('/api/auth/login').send({ email, password: 'wrong guess passphrase 5561' });
    await app.http.post('/api/auth/login').send({ email: uniqueEmail('ghost'), password: 'unknown user passphrase 7782' });
    expect((await client.post('/api/me/password').set('X-CSRF-Token', csrf).send({ currentPassword: 'wrong guess passphrase 5561', newPassword: second })).status).toBe(403);
    expect((await client.post('/api/me/password').set('X-CSRF-Token', csrf).send({ currentPassword: first, newPassword: second })).status).toBe(204);
    await client.post('/api/me/password').set('X-CSRF-Token', 'forged-csrf-token-value').send({ currentPassword: second, newPassword: third });
    await app.http.post('/api/auth/login').set('Content-Type', 'application/json').send(`{"email":"${email}","password":"${second}"`); // malformed JSON

    expect((await app.http.post('/api/auth/password-reset/request').send({ email })).status).toBe(202);
    const mails = await waitForEmails(app.db, email, 2);
    const resetToken = keep(tokenFromLink(mails[1]!, '/reset-password').token);
    expect((await app.http.post('/api/auth/password-reset/confirm').send({ token: resetToken, password: third })).status).toBe(204);
    await app.http.post('/api/auth/password-reset/confirm').send({ token: resetToken, password: third });

    const again = supertest.agent(app.url);
    const relogin = await again.post('/api/auth/login').send({ email, password: third });
    expect(relogin.status).toBe(200);
    keep(relogin.body.csrfToken, String(relogin.headers['set-cookie']?.[0]).split(';')[0]!.split('=')[1]!);
    expect((await again.post('/api/auth/logout').set('X-CSRF-Token', relogin.body.csrfToken)).status).toBe(204);

    const logs = app.logs.join('\n');
    expect(app.logs.length).toBeGreaterThan(15);
    for (const secret of secrets) expect(logs).not.toContain(secret);

    const user = await app.db.prisma.user.findUniqueOrThrow({ where: { email } });
    const audit = JSON.stringify(await app.db.prisma.auditLog.findMany({ where: { OR: [{ actorId: user.id }, { targetId: user.id }] } }));
    expect(audit).toContain('auth.password_reset');
    for (const secret of secrets) expect(audit).not.toContain(secret);
    expect(audit).not.toContain(user.passwordHash);
  });
});
