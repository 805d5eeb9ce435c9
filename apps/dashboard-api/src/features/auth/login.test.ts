// Login, logout and the session cookie over HTTP on the real database: credentials, lockout,
// fixation, cookie flags, CSRF and cross-site rules, and what the session store writes.
import argon2 from 'argon2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLoggedInUser, createUser, DEFAULT_PASSWORD, login, uniqueEmail } from '../../../test/support/factories.ts';
import { sleep } from '../../../test/support/mail.ts';
import { startTestApp, type TestApp } from '../../../test/support/test-app.ts';
import { ConcurrencyLimiter } from './password-hashing.ts';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.stop());

const sidOf = (cookie: string) => decodeURIComponent(cookie.split('=')[1]!).replace(/^s:/, '').split('.')[0]!;
const withoutRequestId = (body: { error: Record<string, unknown> }) => ({ ...body, error: { ...body.error, requestId: undefined } });
const randomIp = () => `10.${[0, 0, 0].map(() => Math.floor(Math.random() * 250)).join('.')}`;

describe('POST /api/auth/login', () => {
  it('answers 200 with the user and a CSRF token, and sets an HttpOnly SameSite=Lax cookie on Path=/', async () => {
    const user = await createUser(app.db);
    const res = await app.http.post('/api/auth/login').send({ email: user.email.toUpperCase(), password: user.password });
    expect(res.status).toBe(200);
    expect(res.body.user).toMatchObject({ id: user.id, email: user.email, role: 'user', status: 'active', emailVerified: true });
    expect(res.body.csrfToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(JSON.stringify(res.body)).not.toMatch(/argon2|passwordHash|sid/);
    const cookie = String(res.headers['set-cookie']?.[0]);
    expect(cookie).toMatch(/^fleet\.sid=/);
    expect(cookie).toMatch(/; HttpOnly/i);
    expect(cookie).toMatch(/; SameSite=Lax/i);
    expect(cookie).toMatch(/; Path=\//);
    expect(cookie).not.toMatch(/; Secure/i);
    const row = await app.db.prisma.session.findUniqueOrThrow({ where: { sid: sidOf(cookie) } });
    expect(row).toMatchObject({ userId: user.id, ip: expect.any(String) });
    expect(await app.db.prisma.auditLog.count({ where: { action: 'auth.login', targetId: user.id, result: 'success' } })).toBe(1);
  });

  it('uses the __Host- prefix and Secure when served over TLS', async () => {
    const tls = await startTestApp({ config: { tls: true, trustProxyHops: 1 } });
    try {
      const user = await createUser(tls.db);
      const res = await tls.http.post('/api/auth/login').set('X-Forwarded-Proto', 'https').send({ email: user.email, password: user.password });
      expect(res.status).toBe(200);
      const cookie = String(res.headers['set-cookie']?.[0]);
      expect(cookie).toMatch(/^__Host-fleet\.sid=/);
      expect(cookie).toMatch(/; Secure/i);
      expect(cookie).toMatch(/; Path=\//);
      expect(cookie).not.toMatch(/Domain=/i);
    } finally {
      await tls.stop();
    }
  });

  it('answers an unknown email and a wrong password identically (401 invalid_credentials)', async () => {
    const user = await createUser(app.db);
    const wrong = await app.http.post('/api/auth/login').send({ email: user.email, password: 'not the right password' });
    const unknown = await app.http.post('/api/auth/login').send({ email: uniqueEmail('nobody'), password: 'not the right password' });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body.error.code).toBe('invalid_credentials');
    expect(withoutRequestId(unknown.body)).toEqual(withoutRequestId(wrong.body));
    expect(Object.keys(unknown.headers).sort()).toEqual(Object.keys(wrong.headers).sort());
    expect(wrong.headers['set-cookie']).toBeUndefined();
    expect(await app.db.prisma.auditLog.count({ where: { action: 'auth.login', targetId: user.id, result: 'failure' } })).toBe(1);
  });

  it('answers 403 account_suspended only to the right password of a suspended account', async () => {
    const user = await createUser(app.db, { status: 'suspended' });
    const right = await app.http.post('/api/auth/login').send({ email: user.email, password: user.password });
    expect(right.status).toBe(403);
    expect(right.body.error.code).toBe('account_suspended');
    expect(right.headers['set-cookie']).toBeUndefined();
    const wrong = await app.http.post('/api/auth/login').send({ email: user.email, password: 'not the right password' });
    expect(wrong.status).toBe(401);
  });

  it('refuses unknown keys with 422', async () => {
    const user = await createUser(app.db);
    const res = await app.http.post('/api/auth/login').send({ email: user.email, password: user.password, role: 'admin' });
    expect(res.status).toBe(422);
  });

  it('rehashes a hash weaker than the current parameters at the next login', async () => {
    const weak = await argon2.hash(DEFAULT_PASSWORD, { type: argon2.argon2id, memoryCost: 4096, timeCost: 1, parallelism: 1 });
    const user = await createUser(app.db);
    await app.db.prisma.user.update({ where: { id: user.id }, data: { passwordHash: weak } });
    await login(app.url, user.email);
    const after = await app.db.prisma.user.findUniqueOrThrow({ where: { id: user.id } });
    expect(after.passwordHash).not.toBe(weak);
    expect(after.passwordHash).toMatch(/m=19456/);
    expect(await argon2.verify(after.passwordHash, DEFAULT_PASSWORD)).toBe(true);
    await login(app.url, user.email);
  });
});

describe('login lockout', () => {
  let locked: TestApp;
  beforeAll(async () => {
    locked = await startTestApp({ config: { trustProxyHops: 1, rateLimits: { ...app.config.rateLimits, loginAccount: { limit: 3, windowSeconds: 900 }, loginIp: { limit: 5, windowSeconds: 900 } } } });
  });
  afterAll(() => locked.stop());

  it('locks an account after its failed-login limit: 429 with Retry-After, even for the right password', async () => {
    const user = await createUser(locked.db);
    const attempt = (password: string) => locked.http.post('/api/auth/login').set('X-Forwarded-For', randomIp()).send({ email: user.email, password });
    for (let i = 0; i < 3; i++) expect((await attempt('wrong password number x')).status).toBe(401);
    const refused = await attempt(user.password);
    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe('rate_limited');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(800);
    expect(refused.headers['set-cookie']).toBeUndefined();
    expect(await locked.db.prisma.auditLog.count({ where: { action: 'auth.login', targetId: user.id, result: 'denied' } })).toBe(1);
  });

  it('holds the limit against concurrent guesses: of ten at once, exactly the limit get 401', async () => {
    const user = await createUser(locked.db);
    const attempts = await Promise.all(
      Array.from({ length: 10 }, () => locked.http.post('/api/auth/login').set('X-Forwarded-For', randomIp()).send({ email: user.email, password: 'wrong password number x' })),
    );
    const statuses = attempts.map((res) => res.status).sort();
    expect(statuses.filter((status) => status === 401)).toHaveLength(3);
    expect(statuses.filter((status) => status === 429)).toHaveLength(7);
  });

  it('counts only failures: right passwords between failures do not use up the limit', async () => {
    const user = await createUser(locked.db);
    const attempt = (password: string) => locked.http.post('/api/auth/login').set('X-Forwarded-For', randomIp()).send({ email: user.email, password });
    for (let i = 0; i < 2; i++) expect((await attempt('wrong password number x')).status).toBe(401);
    for (let i = 0; i < 3; i++) expect((await attempt(user.password)).status).toBe(200);
    expect((await attempt('wrong password number x')).status).toBe(401);
    expect((await attempt(user.password)).status).toBe(429);
  });

  it('locks an unknown email the same way (no oracle)', async () => {
    const email = uniqueEmail('ghost');
    const attempt = () => locked.http.post('/api/auth/login').set('X-Forwarded-For', randomIp()).send({ email, password: 'wrong password number x' });
    for (let i = 0; i < 3; i++) expect((await attempt()).status).toBe(401);
    expect((await attempt()).status).toBe(429);
  });

  it('limits login attempts per client address: 429 with Retry-After', async () => {
    const ip = randomIp();
    const user = await createUser(locked.db);
    const attempt = () => locked.http.post('/api/auth/login').set('X-Forwarded-For', ip).send({ email: user.email, password: user.password });
    for (let i = 0; i < 5; i++) expect((await attempt()).status).toBe(200);
    const refused = await attempt();
    expect(refused.status).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    // Another address still gets in.
    expect((await locked.http.post('/api/auth/login').set('X-Forwarded-For', randomIp()).send({ email: user.email, password: user.password })).status).toBe(200);
  });
});

describe('sessions', () => {
  it('gives a new session id at login and kills the previous one (fixation)', async () => {
    const user = await createUser(app.db);
    const first = await login(app.url, user.email);
    // Log in again from the same client, which presents the first cookie.
    const second = await first.agent.post('/api/auth/login').send({ email: user.email, password: user.password });
    const secondCookie = String(second.headers['set-cookie']?.[0]).split(';')[0]!;
    expect(sidOf(secondCookie)).not.toBe(sidOf(first.cookie));
    expect(await app.db.prisma.session.findUnique({ where: { sid: sidOf(first.cookie) } })).toBeNull();
    expect((await app.http.get('/api/auth/session').set('Cookie', first.cookie)).status).toBe(401);
    expect((await app.http.get('/api/auth/session').set('Cookie', secondCookie)).status).toBe(200);
  });

  it('ignores a session id planted before login', async () => {
    const user = await createUser(app.db);
    const planted = 'fleet.sid=s%3Aattacker-chosen-id.invalidsignature';
    const res = await app.http.post('/api/auth/login').set('Cookie', planted).send({ email: user.email, password: user.password });
    const cookie = String(res.headers['set-cookie']?.[0]).split(';')[0]!;
    expect(sidOf(cookie)).not.toBe('attacker-chosen-id');
    expect(await app.db.prisma.session.findUnique({ where: { sid: 'attacker-chosen-id' } })).toBeNull();
  });

  it('logout answers 204, deletes the row, and the cookie is dead', async () => {
    const { agent, csrfToken, cookie } = await createLoggedInUser(app.db, app.url);
    const res = await agent.post('/api/auth/logout').set('X-CSRF-Token', csrfToken);
    expect(res.status).toBe(204);
    expect(await app.db.prisma.session.findUnique({ where: { sid: sidOf(cookie) } })).toBeNull();
    const after = await app.http.get('/api/auth/session').set('Cookie', cookie);
    expect(after.status).toBe(401);
    expect(after.body.error.code).toBe('unauthenticated');
    expect((await app.http.get('/api/me/sessions').set('Cookie', cookie)).status).toBe(401);
  });

  it('answers 401 for an expired session row', async () => {
    const { cookie } = await createLoggedInUser(app.db, app.url);
    await app.db.prisma.session.update({ where: { sid: sidOf(cookie) }, data: { expire: new Date(Date.now() - 1000) } });
    expect((await app.http.get('/api/me/sessions').set('Cookie', cookie)).status).toBe(401);
  });

  it('creates no session row and no cookie for anonymous requests', async () => {
    const user = await createUser(app.db);
    const responses = [
      await app.http.get('/api/auth/session'),
      await app.http.get('/api/me/sessions'),
      await app.http.post('/api/auth/login').send({ email: user.email, password: 'wrong password number x' }),
      await app.http.post('/api/auth/password-reset/request').send({ email: user.email }),
      await app.http.get('/healthz'),
    ];
    // A session row is only ever saved together with its cookie: no cookie, no row. (Counting rows
    // by user proves nothing: an anonymous row could not carry this user's id.)
    for (const res of responses) {
      expect(res.status).toBeLessThan(500);
      expect(res.headers['set-cookie']).toBeUndefined();
    }
  });

  it('does not write the store on every request (expire and sess unchanged across quick requests)', async () => {
    const { agent, cookie } = await createLoggedInUser(app.db, app.url);
    const before = await app.db.prisma.session.findUniqueOrThrow({ where: { sid: sidOf(cookie) } });
    expect((await agent.get('/api/auth/session')).status).toBe(200);
    expect((await agent.get('/api/me/sessions')).status).toBe(200);
    const after = await app.db.prisma.session.findUniqueOrThrow({ where: { sid: sidOf(cookie) } });
    expect(after.expire.toISOString()).toBe(before.expire.toISOString());
    expect(after.sess).toEqual(before.sess);
  });

  it('refuses a session past its absolute lifetime even while its row has not expired (server-side check)', async () => {
    const { user, cookie } = await createLoggedInUser(app.db, app.url);
    const raw = () => app.http.get('/api/me/sessions').set('Cookie', cookie);
    expect((await raw()).status).toBe(200);
    // Age the session's start past the absolute limit; the row's expire stays in the future and
    // the raw cookie is sent as is, so only the server's absolute-lifetime check can refuse it.
    const aged = Date.now() - app.config.sessionAbsoluteMs - 60_000;
    await app.db.pool.query(`UPDATE sessions SET sess = jsonb_set(sess::jsonb, '{createdAt}', to_jsonb($2::bigint))::json WHERE user_id = $1`, [user.id, aged]);
    expect((await app.db.pool.query(`SELECT 1 FROM sessions WHERE user_id = $1 AND expire > now()`, [user.id])).rowCount).toBe(1);
    expect((await raw()).status).toBe(401);
  });

  it('ends an active session at its absolute lifetime, and an idle one at its idle timeout', async () => {
    // Windows of a few seconds leave room for a slow, busy machine; the bounds below hold
    // whatever the machine's speed, because the session's clock starts inside login.
    const absoluteMs = 4_000;
    const idleMs = 4_000;
    const short = await startTestApp({ config: { sessionAbsoluteMs: absoluteMs, sessionIdleMs: 60_000 } });
    const idle = await startTestApp({ config: { sessionAbsoluteMs: 3_600_000, sessionIdleMs: idleMs } });
    try {
      const beforeLogin = Date.now();
      const active = await createLoggedInUser(short.db, short.url);
      // Active all along: a request every 500 ms, yet it ends at its absolute limit.
      let status = 200;
      let served = 0;
      while (status === 200 && Date.now() - beforeLogin < absoluteMs * 5) {
        status = (await active.agent.get('/api/me/sessions')).status;
        if (status === 200) {
          served++;
          await sleep(500);
        }
      }
      expect(served).toBeGreaterThan(0);
      expect(status).toBe(401);
      // Not before the absolute limit (the idle timeout here is a minute), give or take the
      // one second of resolution of the cookie's Expires and of connect-pg-simple's expiry check.
      expect(Date.now() - beforeLogin).toBeGreaterThanOrEqual(absoluteMs - 1_000);

      const quiet = await createLoggedInUser(idle.db, idle.url);
      expect((await quiet.agent.get('/api/me/sessions')).status).toBe(200);
      await sleep(idleMs + 500);
      expect((await quiet.agent.get('/api/me/sessions')).status).toBe(401);
    } finally {
      await short.stop();
      await idle.stop();
    }
  });
});

describe('CSRF and cross-site rules', () => {
  it('refuses a state change without, or with a wrong, X-CSRF-Token (403)', async () => {
    const { agent, csrfToken } = await createLoggedInUser(app.db, app.url);
    const missing = await agent.post('/api/me/sessions/revoke-others');
    expect(missing.status).toBe(403);
    expect(missing.body.error.code).toBe('csrf_failed');
    const wrong = await agent.post('/api/me/sessions/revoke-others').set('X-CSRF-Token', `${csrfToken.slice(0, -2)}xx`);
    expect(wrong.status).toBe(403);
    // Another session's token is wrong too: the token is bound to its session.
    const other = await createLoggedInUser(app.db, app.url);
    expect((await agent.post('/api/me/sessions/revoke-others').set('X-CSRF-Token', other.csrfToken)).status).toBe(403);
    expect((await agent.post('/api/me/sessions/revoke-others').set('X-CSRF-Token', csrfToken)).status).toBe(200);
  });

  it('refuses a foreign Origin and Sec-Fetch-Site: cross-site (403), accepts PUBLIC_URL as Origin', async () => {
    const { agent, csrfToken } = await createLoggedInUser(app.db, app.url);
    const foreign = await agent.post('/api/me/sessions/revoke-others').set('X-CSRF-Token', csrfToken).set('Origin', 'https://evil.example');
    expect(foreign.status).toBe(403);
    expect(foreign.body.error.code).toBe('cross_site_request');
    const crossSite = await agent.post('/api/me/sessions/revoke-others').set('X-CSRF-Token', csrfToken).set('Sec-Fetch-Site', 'cross-site');
    expect(crossSite.status).toBe(403);
    const ours = await agent.post('/api/me/sessions/revoke-others').set('X-CSRF-Token', csrfToken).set('Origin', 'http://fleet.test').set('Sec-Fetch-Site', 'same-origin');
    expect(ours.status).toBe(200);
    // Login is protected the same way (no login CSRF from another site).
    const user = await createUser(app.db);
    expect((await app.http.post('/api/auth/login').set('Origin', 'https://evil.example').send({ email: user.email, password: user.password })).status).toBe(403);
  });

  it('refuses a text/plain body with 415 even with a valid token', async () => {
    const { agent, csrfToken } = await createLoggedInUser(app.db, app.url);
    const res = await agent.post('/api/me/password').set('X-CSRF-Token', csrfToken).set('Content-Type', 'text/plain').send('{"currentPassword":"x","newPassword":"y"}');
    expect(res.status).toBe(415);
  });
});

describe('the bounded verify limiter', () => {
  it('queues up to its bound and refuses the next at once with 503 server_busy', async () => {
    const limiter = new ConcurrencyLimiter(1, 1);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const running = limiter.run(() => gate);
    const queued = limiter.run(async () => 'queued ran');
    await expect(limiter.run(async () => 'never')).rejects.toMatchObject({ status: 503, code: 'server_busy' });
    release();
    await running;
    expect(await queued).toBe('queued ran');
  });
});

