// One router per audience (src/routes/): the agent API under /api/agent (bearer token, never a
// session), administrators under /api/admin, operators and API keys under the rest of /api,
// operations at the root. This checks every registered operation sits in its audience's place.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLoggedInUser } from '../support/factories.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.stop());

const audienceOf = (path: string) =>
  path.startsWith('/api/agent/') ? 'agent' : path.startsWith('/api/admin/') ? 'admin' : path.startsWith('/api/') ? 'operator' : 'operations';

describe('audiences', () => {
  it('puts every agent-token operation under /api/agent, every admin one under /api/admin, and nothing else there', () => {
    const routes = app.server.app.openapi.list();
    expect(routes.length).toBeGreaterThan(100);
    const misplaced = routes.filter((route) => {
      const audience = audienceOf(route.path);
      if (route.auth === 'agent') return audience !== 'agent';
      if (route.auth === 'admin') return audience !== 'admin';
      // The agent API's one public operation is enrollment (the code is the credential).
      if (audience === 'agent') return route.auth !== 'public';
      if (audience === 'admin') return true;
      // Operations are public and outside /api.
      return audience === 'operations' ? route.auth !== 'public' : false;
    });
    expect(misplaced.map((route) => `${route.method} ${route.path} (${route.auth})`)).toEqual([]);
  });

  it('never loads a session for an agent path, even one it does not know: its own 404 with the full path', async () => {
    const operator = await createLoggedInUser(app.db, app.url);
    // A session past its absolute lifetime is destroyed (its row deleted) by whichever request
    // loads it; so while no agent request loads one, the row survives them all.
    await app.db.pool.query(`UPDATE sessions SET sess = jsonb_set(sess::jsonb, '{createdAt}', '0')::json WHERE user_id = $1`, [operator.user.id]);
    for (const path of ['/api/agent', '/api/agent/', '/api/agent/no-such-route', '/api/agent/commands']) {
      const res = await app.http.get(path).set('Cookie', operator.cookie);
      expect(res.status, path).toBe(path === '/api/agent/commands' ? 401 : 404);
      if (res.status === 404) expect(res.body.error.message).toContain(`GET ${path}`);
      expect(res.headers['set-cookie']).toBeUndefined();
    }
    expect((await app.db.pool.query('SELECT 1 FROM sessions WHERE user_id = $1', [operator.user.id])).rowCount).toBe(1);
    // The operator API does load it, and ends it.
    expect((await app.http.get('/api/me/sessions').set('Cookie', operator.cookie)).status).toBe(401);
    expect((await app.db.pool.query('SELECT 1 FROM sessions WHERE user_id = $1', [operator.user.id])).rowCount).toBe(0);
  });
});
