// Admin user management over HTTP: listing with search, filters and keyset paging; role and
// status changes that take effect on the user's next request.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgent, createLoggedInUser, createUser } from '../../../test/support/factories.ts';
import type { TestApp } from '../../../test/support/test-app.ts';
import { startAdminApp, type Admin } from '../../../test/support/admin-app.ts';

let app: TestApp;
let admin: Admin;
beforeAll(async () => ({ app, admin } = await startAdminApp()));
afterAll(() => app.stop());

const patch = (id: string, body: unknown) => admin.agent.patch(`/api/admin/users/${id}`).set('X-CSRF-Token', admin.csrfToken).send(body as object);

describe('GET /api/admin/users', () => {
  it('searches by part of the email, filters by status, pages newest first with an opaque cursor', async () => {
    const tag = randomBytes(4).toString('hex');
    const made = [];
    for (let i = 0; i < 3; i++) made.push(await createUser(app.db, { email: `find-${tag}-${i}@example.test` }));
    const suspended = await createUser(app.db, { email: `find-${tag}-s@example.test`, status: 'suspended' });

    const all = await admin.agent.get(`/api/admin/users?email=${tag.toUpperCase()}`);
    expect(all.status).toBe(200);
    expect(all.body.items.map((u: { email: string }) => u.email)).toEqual([suspended.email, made[2]!.email, made[1]!.email, made[0]!.email]);
    expect(JSON.stringify(all.body)).not.toMatch(/argon2|passwordHash/);

    const active = await admin.agent.get(`/api/admin/users?email=${tag}&status=active`);
    expect(active.body.items).toHaveLength(3);
    const onlySuspended = await admin.agent.get(`/api/admin/users?email=${tag}&status=suspended`);
    expect(onlySuspended.body.items.map((u: { id: string }) => u.id)).toEqual([suspended.id]);

    const page1 = await admin.agent.get(`/api/admin/users?email=${tag}&limit=3`);
    expect(page1.body.items).toHaveLength(3);
    const page2 = await admin.agent.get(`/api/admin/users?email=${tag}&limit=3&cursor=${encodeURIComponent(page1.body.nextCursor)}`);
    expect(page2.body).toEqual({ items: [expect.objectContaining({ id: made[0]!.id })], nextCursor: null });
  });

  it('treats LIKE wildcards in the search as plain characters', async () => {
    const res = await admin.agent.get('/api/admin/users?email=%25');
    expect(res.status).toBe(200);
    expect(res.body.items).toEqual([]);
  });

  it('refuses a bad filter, limit or cursor with 422', async () => {
    expect((await admin.agent.get('/api/admin/users?status=deleted')).status).toBe(422);
    expect((await admin.agent.get('/api/admin/users?limit=0')).status).toBe(422);
    expect((await admin.agent.get('/api/admin/users?limit=500')).status).toBe(422);
    expect((await admin.agent.get('/api/admin/users?cursor=garbage')).status).toBe(422);
    expect((await admin.agent.get('/api/admin/users?sort=email')).status).toBe(422);
  });

  it('is admin only: 401 anonymous, 403 for a user (and the denial is audited)', async () => {
    expect((await app.http.get('/api/admin/users')).status).toBe(401);
    const { agent, user } = await createLoggedInUser(app.db, app.url);
    const res = await agent.get('/api/admin/users');
    expect(res.status).toBe(403);
    expect(await app.db.prisma.auditLog.count({ where: { action: 'admin.access_denied', actorId: user.id } })).toBe(1);
  });
});

describe('PATCH /api/admin/users/:id', () => {
  it('suspends a user: their sessions end and their agent tokens stop working at once', async () => {
    const target = await createLoggedInUser(app.db, app.url);
    const agent = await createAgent(app.db, target.user.id);
    const heartbeat = () => app.http.post('/api/agent/heartbeat').set('Authorization', agent.authorization).send({ version: '1.0.0', dongles: [] });
    expect((await heartbeat()).status).toBe(200);
    const res = await patch(target.user.id, { status: 'suspended' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: target.user.id, status: 'suspended' });
    expect((await target.agent.get('/api/auth/session')).status).toBe(401);
    expect(await app.db.prisma.session.count({ where: { userId: target.user.id } })).toBe(0);
    const tokens = await app.db.prisma.agentToken.findMany({ where: { agentId: agent.agent.id } });
    expect(tokens.every((token) => token.revokedAt !== null)).toBe(true);
    expect((await heartbeat()).status).toBe(401);
    const audit = await app.db.prisma.auditLog.findFirstOrThrow({ where: { action: 'admin.user_update', targetId: target.user.id } });
    expect(audit).toMatchObject({ actorId: admin.user.id });
    expect(audit.details).toMatchObject({ changes: { status: { from: 'active', to: 'suspended' } }, sessionsEnded: 1, agentAccessRevoked: 1 });
    // Logging in again is refused while suspended; reactivation lets them back in.
    expect((await app.http.post('/api/auth/login').send({ email: target.user.email, password: target.user.password })).status).toBe(403);
    expect((await patch(target.user.id, { status: 'active' })).status).toBe(200);
    expect((await app.http.post('/api/auth/login').send({ email: target.user.email, password: target.user.password })).status).toBe(200);
  });

  it('is effective on the next request even for a session that is not ended (status read per request)', async () => {
    const target = await createLoggedInUser(app.db, app.url);
    await app.db.prisma.user.update({ where: { id: target.user.id }, data: { status: 'suspended' } });
    const res = await target.agent.get('/api/me/sessions');
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('account_suspended');
  });

  it('demotes an admin: admin routes are 403 on their next request', async () => {
    const other = await createLoggedInUser(app.db, app.url, { role: 'admin' });
    expect((await other.agent.get('/api/admin/users?limit=1')).status).toBe(200);
    const res = await patch(other.user.id, { role: 'user' });
    expect(res.status).toBe(200);
    expect(res.body.role).toBe('user');
    expect((await other.agent.get('/api/admin/users?limit=1')).status).toBe(403);
    expect((await other.agent.get('/api/auth/session')).body.user.role).toBe('user');
  });

  it('promotes a user to admin', async () => {
    const target = await createLoggedInUser(app.db, app.url);
    expect((await patch(target.user.id, { role: 'admin' })).body.role).toBe('admin');
    expect((await target.agent.get('/api/admin/users?limit=1')).status).toBe(200);
  });

  it('refuses mass-assignment keys, empty bodies and bad values with 422', async () => {
    const target = await createUser(app.db);
    for (const body of [{ email: 'x@example.test' }, { passwordHash: 'x' }, { emailVerifiedAt: null }, {}, { role: 'root' }, JSON.parse('{"__proto__": {"role": "admin"}}')]) {
      const res = await admin.agent.patch(`/api/admin/users/${target.id}`).set('X-CSRF-Token', admin.csrfToken).set('Content-Type', 'application/json').send(JSON.stringify(body));
      expect(res.status).toBe(422);
    }
    expect(await app.db.prisma.user.findUniqueOrThrow({ where: { id: target.id } })).toMatchObject({ role: 'user', email: target.email });
  });

  it('answers 404 for an unknown user and 422 for a malformed id', async () => {
    expect((await patch('00000000-0000-4000-8000-000000000000', { status: 'suspended' })).status).toBe(404);
    expect((await patch('nope', { status: 'suspended' })).status).toBe(422);
  });

  it('refuses to let an admin demote or suspend themselves (409)', async () => {
    const res = await patch(admin.user.id, { role: 'user' });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('cannot_change_own_access');
    expect((await patch(admin.user.id, { status: 'suspended' })).status).toBe(409);
  });

  it('is admin only (403) and needs the CSRF token (403)', async () => {
    const target = await createUser(app.db);
    const { agent, csrfToken } = await createLoggedInUser(app.db, app.url);
    expect((await agent.patch(`/api/admin/users/${target.id}`).set('X-CSRF-Token', csrfToken).send({ role: 'admin' })).status).toBe(403);
    expect((await admin.agent.patch(`/api/admin/users/${target.id}`).send({ role: 'admin' })).status).toBe(403);
    expect((await app.db.prisma.user.findUniqueOrThrow({ where: { id: target.id } })).role).toBe('user');
  });
});
