// Fleet test helpers: an app with its own dongle-token key ring, operators with an enrolled
// agent, and dongles driven through the real HTTP claim protocol.
import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import type { Config } from '../../src/config.ts';
import { createAgent, createLoggedInUser, randomDeviceId, type UserOptions } from './factories.ts';
import { startTestApp, type TestApp } from './test-app.ts';

export const randomKey = () => randomBytes(32).toString('base64');

/** A test app whose dongle tokens use a fresh random key (never the developer's DATA_DIR ring). */
export function startFleetApp(config: Partial<Config> = {}, options: { databaseUrl?: string } = {}): Promise<TestApp> {
  return startTestApp({ ...options, config: { dongleTokenKeys: `1:${randomKey()}`, ...config } });
}

export type Operator = Awaited<ReturnType<typeof createOperator>>;

/** A logged-in operator plus one enrolled agent (bearer header in `agentAuth`). */
export async function createOperator(app: TestApp, options: UserOptions = {}) {
  const operator = await createLoggedInUser(app.db, app.url, options);
  const agent = await createAgent(app.db, operator.user.id);
  return { ...operator, agentRow: agent.agent, agentAuth: agent.authorization };
}

/** Session client with the CSRF header set, for state-changing operator calls. */
export function csrf(operator: { csrfToken: string }) {
  return { 'X-CSRF-Token': operator.csrfToken };
}

export async function heartbeat(app: TestApp, agentAuth: string, deviceIds: string[], version = '1.0.0') {
  const res = await app.http.post('/api/agent/heartbeat').set('Authorization', agentAuth).send({ version, dongles: deviceIds.map((deviceId) => ({ deviceId })) });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res;
}

export async function claim(app: TestApp, operator: Operator, deviceId: string) {
  return operator.agent.post('/api/dongles/claim').set(csrf(operator)).send({ deviceId });
}

/** Reported, claimed, token exchanged and acknowledged: a CLAIMED_ACTIVE dongle of `operator`. */
export async function activeDongle(app: TestApp, operator: Operator, deviceId = randomDeviceId()) {
  await heartbeat(app, operator.agentAuth, [deviceId]);
  const claimed = await claim(app, operator, deviceId);
  expect(claimed.status, JSON.stringify(claimed.body)).toBe(202);
  const exchanged = await app.http.post(`/api/agent/dongles/${deviceId}/token`).set('Authorization', operator.agentAuth);
  expect(exchanged.status, JSON.stringify(exchanged.body)).toBe(200);
  const acked = await app.http.post(`/api/agent/dongles/${deviceId}/token/ack`).set('Authorization', operator.agentAuth);
  expect(acked.status, JSON.stringify(acked.body)).toBe(200);
  return { id: claimed.body.id as string, deviceId, token: exchanged.body.token as string };
}
