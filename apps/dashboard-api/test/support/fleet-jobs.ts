// Fleet-job test helpers: a fleet of agent-sim agents whose dongles are claimed through the real
// HTTP protocol, firmware upload and signing, and waiting on a job's state.
import { generateKeyPairSync, sign } from 'node:crypto';
import { expect } from 'vitest';
import { AgentSimulator, type SimulatorOptions } from '../../../agent-sim/src/index.ts';
import type { Operator } from './fleet.ts';
import { csrf } from './fleet.ts';
import type { TestApp } from './test-app.ts';

export interface Fleet {
  sims: AgentSimulator[];
  /** device id → dongle id */
  ids: Map<string, string>;
  stop(): Promise<void>;
}

/** `agents` simulators with `perAgent` dongles each, all claimed by `operator` and tagged `tags`. */
export async function createFleet(app: TestApp, operator: Operator, options: { agents: number; perAgent: number; tags?: Record<string, string>; sim?: Partial<SimulatorOptions> }): Promise<Fleet> {
  const sims: AgentSimulator[] = [];
  const ids = new Map<string, string>();
  for (let a = 0; a < options.agents; a++) {
    const code = await operator.agent.post('/api/agents/enrollment-codes').set(csrf(operator)).expect(201);
    const sim = new AgentSimulator({ baseUrl: app.url, dongles: options.perAgent, pollWaitSeconds: 5, heartbeatIntervalMs: 2_000, downloadChunkBytes: 3_000, ...options.sim });
    await sim.enroll(code.body.code);
    await sim.heartbeat();
    for (const dongle of sim.dongles) {
      const claimed = await operator.agent.post('/api/dongles/claim').set(csrf(operator)).send({ deviceId: dongle.deviceId });
      expect(claimed.status, JSON.stringify(claimed.body)).toBe(202);
      ids.set(dongle.deviceId, claimed.body.id);
    }
    await sim.heartbeat(); // token exchange and acknowledgement
    sims.push(sim);
  }
  if (options.tags) {
    const all = [...ids.values()];
    for (let i = 0; i < all.length; i += 1_000) {
      await operator.agent.post('/api/dongles/tags/bulk').set(csrf(operator)).send({ dongleIds: all.slice(i, i + 1_000), set: options.tags }).expect(200);
    }
  }
  for (const sim of sims) sim.start();
  return { sims, ids, stop: async () => void (await Promise.all(sims.map((sim) => sim.stop()))) };
}

export function signingKeyPair() {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const raw = (publicKey.export({ format: 'der', type: 'spki' }) as Buffer).subarray(12).toString('base64');
  return { publicKeyBase64: raw, sign: (data: Buffer) => sign(null, data, privateKey).toString('base64') };
}

export async function uploadImage(operator: Operator, bytes: Buffer, meta: { version: string; chipFamily?: string; boardRevision?: string; signature?: string; signingKeyId?: string }) {
  const res = await operator.agent
    .post('/api/firmware/images')
    .query({ chipFamily: 'stm32g4', boardRevision: 'rev-b', ...meta })
    .set(csrf(operator))
    .set('Content-Type', 'application/octet-stream')
    .send(bytes);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { id: string; sha256: string; signed: boolean };
}

export type JobBody = { status: string; statusReason: string | null; progress: Record<string, number>; currentStage: number; targetCount: number; id: string };

/** Polls the job until `done(job)`; returns it. */
export async function waitForJob(operator: Operator, jobId: string, done: (job: JobBody) => boolean, timeoutMs = 120_000): Promise<JobBody> {
  let job: JobBody | undefined;
  await expect
    .poll(async () => {
      job = (await operator.agent.get(`/api/jobs/${jobId}`)).body as JobBody;
      return done(job);
    }, { timeout: timeoutMs, interval: 250 })
    .toBe(true);
  return job!;
}

export async function allExecutions(operator: Operator, jobId: string) {
  const items: Array<{ dongleId: string; seq: number; status: string; reason: string | null; commandId: string | null; dispatchedAt: string | null; finishedAt: string | null }> = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await operator.agent.get(`/api/jobs/${jobId}/executions`).query({ limit: 200, ...(cursor ? { cursor } : {}) }).expect(200);
    items.push(...page.body.items);
    if (page.body.nextCursor === null) return items;
    cursor = page.body.nextCursor;
  }
}
