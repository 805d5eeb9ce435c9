// Test fixtures for the commands feature: an operator with a logged-in client, an enrolled
// agent, and dongles that agent reports, CLAIMED_ACTIVE.
import { createAgent, createDongle, createLoggedInUser } from './factories.ts';
import type { TestApp } from './test-app.ts';
import type { BackgroundWorker } from '../../src/platform/lifecycle.ts';
import { CommandNotifier } from '../../src/features/commands/command-notifier.ts';

export async function createFleet(app: TestApp, options: { dongles?: number; agents?: number } = {}) {
  const operator = await createLoggedInUser(app.db, app.url);
  const agents = [];
  for (let i = 0; i < (options.agents ?? 1); i++) agents.push(await createAgent(app.db, operator.user.id, `pc-${i}`));
  const dongles = [];
  for (let i = 0; i < (options.dongles ?? 1); i++) {
    dongles.push(await createDongle(app.db, { ownerUserId: operator.user.id, lastSeenAgentId: agents[i % agents.length]!.agent.id }));
  }
  /** POST /api/dongles/:id/commands as the operator. */
  const send = (dongleId: string, body: unknown, idempotencyKey?: string) => {
    const req = operator.agent.post(`/api/dongles/${dongleId}/commands`).set('X-CSRF-Token', operator.csrfToken);
    if (idempotencyKey) req.set('Idempotency-Key', idempotencyKey);
    return req.send(body as object);
  };
  return { operator, agent: agents[0]!, agents, dongle: dongles[0]!, dongles, send };
}

export type Fleet = Awaited<ReturnType<typeof createFleet>>;

/** The app's one LISTEN connection (a Lifecycle worker), for tests that watch waiting polls. */
export function notifierOf(app: TestApp): CommandNotifier {
  const workers = (app.server.app.lifecycle as unknown as { workers: BackgroundWorker[] }).workers;
  const notifier = workers.find((worker) => worker.name === 'command-notifier');
  if (!(notifier instanceof CommandNotifier)) throw new Error('no command notifier registered');
  return notifier;
}

/** GET /api/agent/commands as an agent. */
export function pollAs(app: TestApp, authorization: string, wait = 0, limit?: number) {
  return app.http.get(`/api/agent/commands?wait=${wait}${limit ? `&limit=${limit}` : ''}`).set('Authorization', authorization);
}

export function postResult(app: TestApp, authorization: string, commandId: string, body: unknown) {
  return app.http.post(`/api/agent/commands/${commandId}/result`).set('Authorization', authorization).send(body as object);
}
