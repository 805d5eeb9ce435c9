// The dashboard served from the API's origin: SPA fallback, caching and the page's CSP.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../../test/support/test-app.ts';

let app: TestApp;
let dist: string;
beforeAll(async () => {
  dist = mkdtempSync(path.join(os.tmpdir(), 'fleet-web-dist-'));
  mkdirSync(path.join(dist, 'assets'));
  writeFileSync(path.join(dist, 'index.html'), '<!doctype html><title>Fleet</title><script type="module" src="/assets/index-abc123.js"></script>');
  writeFileSync(path.join(dist, 'assets', 'index-abc123.js'), 'console.log("app")');
  app = await startTestApp({ deps: { webDist: dist } });
});
afterAll(async () => {
  await app.stop();
  rmSync(dist, { recursive: true, force: true });
});

describe('the dashboard at /', () => {
  it('serves index.html for the app routes, revalidated on each load, under a CSP without inline scripts', async () => {
    for (const url of ['/', '/dongles/123', '/verify-email?token=abc', '/reset-password?token=abc']) {
      const res = await app.http.get(url);
      expect(res.status, url).toBe(200);
      expect(res.headers['content-type']).toMatch(/text\/html/);
      expect(res.text).toContain('<title>Fleet</title>');
      expect(res.headers['cache-control']).toBe('no-cache');
      const csp = res.headers['content-security-policy'] as string;
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain('unsafe-inline');
      expect(csp).not.toContain('unsafe-eval');
    }
  });

  it('caches hashed assets for a year and answers a missing asset with a 404, not the page', async () => {
    const js = await app.http.get('/assets/index-abc123.js');
    expect(js.status).toBe(200);
    expect(js.headers['content-type']).toMatch(/javascript/);
    expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    const missing = await app.http.get('/assets/index-gone.js');
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('not_found');
  });

  it('leaves the API, the OpenAPI document and health paths alone', async () => {
    const api = await app.http.get('/api/nope');
    expect(api.status).toBe(404);
    expect(api.body.error).toMatchObject({ code: 'not_found' });
    expect(api.headers['cache-control']).toBe('no-store');
    expect(api.headers['content-security-policy']).toContain("default-src 'none'");
    expect((await app.http.get('/openapi.json')).headers['content-type']).toMatch(/json/);
    expect((await app.http.get('/healthz')).headers['content-type']).not.toMatch(/html/);
  });
});

describe('without a built dashboard', () => {
  it('answers / with the JSON 404 (the API still works)', async () => {
    const bare = await startTestApp({ deps: { webDist: path.join(dist, 'does-not-exist') } });
    try {
      const res = await bare.http.get('/');
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('not_found');
    } finally {
      await bare.stop();
    }
  });
});
