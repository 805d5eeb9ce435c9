// Small edge rules over HTTP: the bearer scheme in any case (RFC 9110 §11.1), /metrics behind a
// token when METRICS_TOKEN is set, and a password of only blank characters refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgent, createLoggedInUser, createUser, uniqueEmail } from '../support/factories.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';

const METRICS_TOKEN = 'metrics-token-for-the-scraper-0123';

let app: TestApp;
let guarded: TestApp;
beforeAll(async () => {
  app = await startTestApp();
  guarded = await startTestApp({ config: { metricsToken: METRICS_TOKEN } });
});
afterAll(async () => {
  await Promise.all([app.stop(), guarded.stop()]);
});

describe('Authorization: Bearer', () => {
  it('accepts the scheme name in any case, and still refuses a wrong token', async () => {
    const owner = await createUser(app.db);
    const { token } = await createAgent(app.db, owner.id);
    for (const scheme of ['Bearer', 'bearer', 'BEARER', 'bEaReR']) {
      const res = await app.http.get('/api/agent/commands?wait=0').set('Authorization', `${scheme} ${token}`);
      expect(res.status, scheme).toBe(200);
    }
    const wrong = await app.http.get('/api/agent/commands?wait=0').set('Authorization', `bearer ${token.slice(0, -2)}xx`);
    expect(wrong.status).toBe(401);
    const basic = await app.http.get('/api/agent/commands?wait=0').set('Authorization', `Basic ${token}`);
    expect(basic.status).toBe(401);
  });
});

describe('GET /metrics with METRICS_TOKEN', () => {
  it('asks for the token (401 in the error shape), and serves the metrics with it', async () => {
    const anonymous = await guarded.http.get('/metrics');
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers['www-authenticate']).toMatch(/^Bearer/);
    expect(anonymous.body.error).toMatchObject({ code: 'unauthenticated', requestId: expect.any(String) });
    expect((await guarded.http.get('/metrics').set('Authorization', 'Bearer not-the-token-at-all-000')).status).toBe(401);
    const scraped = await guarded.http.get('/metrics').set('Authorization', `bearer ${METRICS_TOKEN}`);
    expect(scraped.status).toBe(200);
    expect(scraped.text).toContain('http_requests_total');
  });

  it('stays open without METRICS_TOKEN (reachable only where the operator exposes it)', async () => {
    expect((await app.http.get('/metrics')).status).toBe(200);
  });
});

describe('passwords of only blank characters', () => {
  it('refuses them at sign-up and on a password change with 422', async () => {
    for (const password of [' '.repeat(12), '\t'.repeat(16), '\u00a0'.repeat(12), ' \u2003 \u3000'.repeat(4)]) {
      const res = await app.http.post('/api/auth/signup').send({ email: uniqueEmail('blank'), password });
      expect(res.status, JSON.stringify(password)).toBe(422);
      expect(res.body.error.details).toEqual([expect.objectContaining({ path: 'body.password', message: expect.stringMatching(/blank/) })]);
    }
    const user = await createLoggedInUser(app.db, app.url);
    const change = await user.agent.post('/api/me/password').set('X-CSRF-Token', user.csrfToken).send({ currentPassword: user.user.password, newPassword: ' '.repeat(20) });
    expect(change.status).toBe(422);
    // A password with spaces in it is still fine.
    const spaced = await app.http.post('/api/auth/signup').send({ email: uniqueEmail('spaced'), password: '  spaces   inside  and out  ' });
    expect(spaced.status).toBe(201);
  });
});
