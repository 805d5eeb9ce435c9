// The signed-in user's password change and sessions, over HTTP on the real database.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLoggedInUser, createUser, login } from '../../../test/support/factories.ts';
import { startTestApp, testConfig, type TestApp } from '../../../test/support/test-app.ts';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ config: { rateLimits: { ...testConfig().rateLimits, loginAccount: { limit: 3, windowSeconds: 900 } } } });
});
afterAll(() => app.stop());

const newPassword = 'another long and fresh passphrase';

describe('POST /api/me/password', () => {
  it('changes the password with the current one and ends every other session, keeping this one', async () => {
    const user = await createUser(app.db);
    const here = await login(app.url, user.email);
    const elsewhere = await login(app.url, user.email);
    const res = await here.agent.post('/api/me/password').set('X-CSRF-Token', here.csrfToken).send({ currentPassword: user.password, newPassword });
    expect(res.status).toBe(204);
    expect((await here.agent.get('/api/auth/session')).status).toBe(200);
    expect((await elsewhere.agent.get('/api/auth/session')).status).toBe(401);
    expect(await app.db.prisma.session.count({ where: { userId: user.id } })).toBe(1);
    expect((await app.http.post('/api/auth/login').send({ email: user.email, password: user.password })).status).toBe(401);
    await login(app.url, user.email, newPassword);
    const audit = await app.db.prisma.auditLog.findFirstOrThrow({ where: { action: 'auth.password_change', targetId: user.id, result: 'success' } });
    expect(audit.details).toMatchObject({ otherSessionsEnded: 1 });
  });

  it('refuses a wrong current password with 403 and counts it towards the lockout', async () => {
    const { user, agent, csrfToken } = await createLoggedInUser(app.db, app.url);
    const change = () => agent.post('/api/me/password').set('X-CSRF-Token', csrfToken).send({ currentPassword: 'not my password at all', newPassword });
    for (let i = 0; i < 3; i++) {
      const res = await change();
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe('invalid_current_password');
    }
    const locked = await change();
    expect(locked.status).toBe(429);
    expect(locked.headers['retry-after']).toBeDefined();
    expect((await app.http.post('/api/auth/login').send({ email: user.email, password: user.password })).status).toBe(429);
  });

  it('applies the password policy (422) and refuses unknown keys (422)', async () => {
    const { user, agent, csrfToken } = await createLoggedInUser(app.db, app.url);
    const weak = await agent.post('/api/me/password').set('X-CSRF-Token', csrfToken).send({ currentPassword: user.password, newPassword: 'password1234' });
    expect(weak.status).toBe(422);
    expect(weak.body.error.details[0].path).toBe('body.newPassword');
    const extra = await agent.post('/api/me/password').set('X-CSRF-Token', csrfToken).send({ currentPassword: user.password, newPassword, role: 'admin' });
    expect(extra.status).toBe(422);
  });

  it('needs a session (401) and a CSRF token (403)', async () => {
    expect((await app.http.post('/api/me/password').send({ currentPassword: 'x', newPassword })).status).toBe(401);
    const { agent, user } = await createLoggedInUser(app.db, app.url);
    expect((await agent.post('/api/me/password').send({ currentPassword: user.password, newPassword })).status).toBe(403);
  });
});

describe('my sessions', () => {
  it('lists my live sessions with the current one marked, by public id, never the sid', async () => {
    const user = await createUser(app.db);
    const a = await login(app.url, user.email);
    await login(app.url, user.email);
    await createLoggedInUser(app.db, app.url); // someone else's session
    const res = await a.agent.get('/api/me/sessions');
    expect(res.status).toBe(200);
    expect(res.body.items).toHaveLength(2);
    expect(res.body.nextCursor).toBeNull();
    const rows = await app.db.prisma.session.findMany({ where: { userId: user.id } });
    const sids = rows.map((row) => row.sid);
    for (const item of res.body.items) {
      expect(Object.keys(item).sort()).toEqual(['createdAt', 'current', 'expiresAt', 'id', 'ip', 'lastActiveAt', 'userAgent']);
      expect(rows.map((row) => row.publicId)).toContain(item.id);
    }
    for (const sid of sids) expect(JSON.stringify(res.body)).not.toContain(sid);
    const current = res.body.items.filter((item: { current: boolean }) => item.current);
    expect(current).toHaveLength(1);
    expect(current[0].id).toBe(rows.find((row) => a.cookie.includes(encodeURIComponent(row.sid)))?.publicId);
  });

  it('pages with limit and an opaque cursor, and refuses a forged cursor with 422', async () => {
    const user = await createUser(app.db);
    const me = await login(app.url, user.email);
    for (let i = 0; i < 2; i++) await login(app.url, user.email);
    const first = await me.agent.get('/api/me/sessions?limit=2');
    expect(first.body.items).toHaveLength(2);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await me.agent.get(`/api/me/sessions?limit=2&cursor=${encodeURIComponent(first.body.nextCursor)}`);
    expect(second.body.items).toHaveLength(1);
    expect(second.body.nextCursor).toBeNull();
    const ids = [...first.body.items, ...second.body.items].map((item: { id: string }) => item.id);
    expect(new Set(ids).size).toBe(3);
    expect((await me.agent.get('/api/me/sessions?cursor=bm90LWEtY3Vyc29y')).status).toBe(422);
    expect((await me.agent.get('/api/me/sessions?limit=201')).status).toBe(422);
  });

  it('revokes one of my sessions by id: that session is 401 on its next request', async () => {
    const user = await createUser(app.db);
    const me = await login(app.url, user.email);
    const other = await login(app.url, user.email);
    const list = await me.agent.get('/api/me/sessions');
    const target = list.body.items.find((item: { current: boolean }) => !item.current);
    const res = await me.agent.delete(`/api/me/sessions/${target.id}`).set('X-CSRF-Token', me.csrfToken);
    expect(res.status).toBe(204);
    expect((await other.agent.get('/api/auth/session')).status).toBe(401);
    expect((await me.agent.get('/api/auth/session')).status).toBe(200);
    expect(await app.db.prisma.auditLog.count({ where: { action: 'session.revoke', targetId: target.id } })).toBe(1);
  });

  it("answers 404 for someone else's session and for an unknown id, 422 for a malformed one", async () => {
    const victim = await createLoggedInUser(app.db, app.url);
    const victimSession = (await victim.agent.get('/api/me/sessions')).body.items[0];
    const attacker = await createLoggedInUser(app.db, app.url);
    const res = await attacker.agent.delete(`/api/me/sessions/${victimSession.id}`).set('X-CSRF-Token', attacker.csrfToken);
    expect(res.status).toBe(404);
    expect((await victim.agent.get('/api/auth/session')).status).toBe(200);
    expect((await attacker.agent.delete('/api/me/sessions/00000000-0000-4000-8000-000000000000').set('X-CSRF-Token', attacker.csrfToken)).status).toBe(404);
    expect((await attacker.agent.delete('/api/me/sessions/not-a-uuid').set('X-CSRF-Token', attacker.csrfToken)).status).toBe(422);
  });

  it('revoking the current session logs me out', async () => {
    const me = await createLoggedInUser(app.db, app.url);
    const [current] = (await me.agent.get('/api/me/sessions')).body.items;
    expect((await me.agent.delete(`/api/me/sessions/${current.id}`).set('X-CSRF-Token', me.csrfToken)).status).toBe(204);
    expect((await me.agent.get('/api/auth/session')).status).toBe(401);
  });

  it('revoke-others ends every session but the current one', async () => {
    const user = await createUser(app.db);
    const me = await login(app.url, user.email);
    const others = [await login(app.url, user.email), await login(app.url, user.email)];
    const res = await me.agent.post('/api/me/sessions/revoke-others').set('X-CSRF-Token', me.csrfToken);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ revoked: 2 });
    for (const other of others) expect((await other.agent.get('/api/auth/session')).status).toBe(401);
    expect((await me.agent.get('/api/me/sessions')).body.items).toHaveLength(1);
  });
});
