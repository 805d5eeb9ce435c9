// Test fixtures for the commands feature: an operator with a logged-in client, an enrolled
// agent, and dongles that agent reports, CLAIMED_ACTIVE.
import { createAgent, createDongle, createLoggedInUser } from '../../../test/support/factories.ts';
import type { TestApp } from '../../../test/support/test-app.ts';

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
