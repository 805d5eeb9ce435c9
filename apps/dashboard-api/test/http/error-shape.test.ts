// Every error status of the skeleton answers in the §3 shape with a request id, never a stack.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { createLoggedInUser } from '../support/factories.ts';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.stop());

function expectErrorShape(res: { status: number; body: unknown; headers: Record<string, string> }, status: number, code: string) {
  expect(res.status).toBe(status);
  const body = res.body as { error: { code: string; message: string; requestId: string } };
  expect(body.error.code).toBe(code);
  expect(body.error.message).toMatch(/\w/);
  expect(body.error.requestId).toBe(res.headers['x-request-id']);
  expect(JSON.stringify(body)).not.toMatch(/at .*\.ts:\d+|stack|SELECT|prisma/i);
}

describe('the error shape', () => {
  it('answers an unknown route with 404 in the error shape', async () => {
    expectErrorShape(await app.http.get('/api/nothing-here'), 404, 'not_found');
  });

  it('answers malformed JSON with 400', async () => {
    const res = await app.http.post('/api/auth/login').set('Content-Type', 'application/json').send('{"email": ');
    expectErrorShape(res, 400, 'malformed_json');
  });

  it('answers a body over 100 kB with 413', async () => {
    const res = await app.http.post('/api/auth/login').set('Content-Type', 'application/json').send(JSON.stringify({ email: 'a@b.c', password: 'x'.repeat(110_000) }));
    expectErrorShape(res, 413, 'payload_too_large');
  });

  it('answers a non-JSON body with 415', async () => {
    const res = await app.http.post('/api/auth/login').set('Content-Type', 'text/plain').send('email=a@b.c');
    expectErrorShape(res, 415, 'unsupported_media_type');
  });

  it('answers a form post with 415', async () => {
    const res = await app.http.post('/api/auth/login').type('form').send({ email: 'a@b.c', password: 'x' });
    expectErrorShape(res, 415, 'unsupported_media_type');
  });

  it('answers invalid input with 422 listing every issue', async () => {
    const res = await app.http.post('/api/auth/login').send({ email: 'not-an-email', role: 'admin' });
    expectErrorShape(res, 422, 'validation_failed');
    const paths = (res.body.error.details as Array<{ path: string }>).map((d) => d.path);
    expect(paths).toEqual(expect.arrayContaining(['body.email', 'body.password', 'body']));
  });

  it('answers an unexpected failure with a generic 500 and logs the cause', async () => {
    const exploding = { verify: async () => { throw new Error('argon2 exploded: secret internals'); } };
    const broken = await startTestApp({ deps: { hasher: exploding as never } });
    try {
      const res = await broken.http.post('/api/auth/login').send({ email: 'someone@example.test', password: 'whatever-password' });
      expectErrorShape(res, 500, 'internal_error');
      expect(JSON.stringify(res.body)).not.toContain('exploded');
      expect(broken.logs.some((line) => line.includes('argon2 exploded'))).toBe(true);
    } finally {
      await broken.stop();
    }
  });

  it('answers 503 in the error shape when the database is gone', async () => {
    // Nothing listens on port 1: every connection attempt is refused, as when PostgreSQL is down.
    const broken = await startTestApp({ databaseUrl: 'postgresql://fleet:fleet@127.0.0.1:1/fleet' });
    const ready = await broken.http.get('/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body.error.requestId).toBe(ready.headers['x-request-id']);
    const res = await broken.http.post('/api/auth/login').send({ email: 'someone@example.test', password: 'whatever-password' });
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe('database_unavailable');
    expect(res.headers['retry-after']).toBeDefined();
    // The operator's log keeps the cause's error code (it is not caught by secret redaction).
    expect(broken.logs.some((line) => line.includes('ECONNREFUSED'))).toBe(true);
    await broken.stop();
  });

  it("never takes a caller's X-Request-Id as the request's id; logs it as a separate correlation field", async () => {
    const own = await app.http.get('/api/nothing').set('X-Request-Id', 'trace-1234567890');
    expect(own.headers['x-request-id']).not.toBe('trace-1234567890');
    expect(own.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(own.body.error.requestId).toBe(own.headers['x-request-id']);
    // Two requests sending the same id still get two ids of their own.
    const again = await app.http.get('/api/nothing').set('X-Request-Id', 'trace-1234567890');
    expect(again.headers['x-request-id']).not.toBe(own.headers['x-request-id']);
    const line = app.logs.map((text) => JSON.parse(text)).find((entry) => entry.requestId === own.headers['x-request-id'] && entry.msg === 'request');
    expect(line).toMatchObject({ clientRequestId: 'trace-1234567890', status: 404 });
    const unsafe = await app.http.get('/api/nothing').set('X-Request-Id', '<script>');
    expect(unsafe.headers['x-request-id']).not.toBe('<script>');
    expect(app.logs.some((text) => text.includes('<script>'))).toBe(false);
  });
});

describe('security headers', () => {
  it('sets nosniff, no-referrer, a restrictive CSP, no-store and no X-Powered-By', async () => {
    const res = await app.http.get('/healthz');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(res.headers['content-security-policy']).toContain("default-src 'none'");
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['x-powered-by']).toBeUndefined();
    expect(res.headers['strict-transport-security']).toBeUndefined();
  });

  it('sends HSTS when served over TLS', async () => {
    const tls = await startTestApp({ config: { tls: true } });
    try {
      const res = await tls.http.get('/healthz');
      expect(res.headers['strict-transport-security']).toMatch(/max-age=\d+/);
    } finally {
      await tls.stop();
    }
  });

  it('sends no CORS headers to an origin that is not configured', async () => {
    const res = await app.http.options('/api/auth/login').set('Origin', 'https://evil.example').set('Access-Control-Request-Method', 'POST');
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('login basics', () => {
  it('logs in, returns the user and a CSRF token, and knows the session', async () => {
    const { agent, csrfToken, user } = await createLoggedInUser(app.db, app.url);
    const res = await agent.get('/api/auth/session');
    expect(res.status).toBe(200);
    expect(res.body.user.email).toBe(user.email);
    expect(res.body.csrfToken).toBe(csrfToken);
    expect(JSON.stringify(res.body)).not.toMatch(/argon2|passwordHash/);
  });
});
