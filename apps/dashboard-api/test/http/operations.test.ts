import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/test-app.ts';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.stop());

describe('operations endpoints', () => {
  it('reports liveness', async () => {
    const res = await app.http.get('/healthz');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
  });

  it('reports ready when the database is reachable and migrated', async () => {
    const res = await app.http.get('/readyz');
    expect(res.status).toBe(200);
  });

  it('reports not ready while draining', async () => {
    app.server.app.readiness.draining = true;
    try {
      const res = await app.http.get('/readyz');
      expect(res.status).toBe(503);
      expect(res.body.error.code).toBe('not_ready');
    } finally {
      app.server.app.readiness.draining = false;
    }
  });

  it('logs one line per request with the full path, mount prefix included, and no query string', async () => {
    await app.http.get('/api/auth/session?token=do-not-log-me');
    const line = app.logs.map((l) => JSON.parse(l) as { msg: string; path?: string; status?: number }).find((l) => l.msg === 'request' && l.path === '/api/auth/session');
    expect(line?.status).toBe(401);
    expect(app.logs.join('\n')).not.toContain('do-not-log-me');
  });

  it('serves Prometheus metrics with request counters by route', async () => {
    await app.http.get('/healthz');
    const res = await app.http.get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/plain/);
    expect(res.text).toMatch(/http_requests_total\{method="GET",route="\/healthz",status="200"\} \d+/);
    expect(res.text).toContain('process_cpu_user_seconds_total');
  });

  it('describes every registered route in /openapi.json', async () => {
    const res = await app.http.get('/openapi.json');
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe('3.1.0');
    for (const route of app.server.app.openapi.list()) {
      const path = route.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
      expect(res.body.paths[path]?.[route.method], `${route.method} ${path}`).toBeDefined();
    }
    const login = res.body.paths['/api/auth/login'].post;
    expect(login.requestBody.content['application/json'].schema.properties).toHaveProperty('email');
  });
});
