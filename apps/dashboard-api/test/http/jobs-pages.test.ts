// The lists of jobs and firmware page like every other list (platform/pagination.ts): `limit`
// and the opaque `cursor` of the previous page's `nextCursor`. A job's executions keep hand-out
// order (seq ascending) in the same cursor format. A cursor the list did not issue — another
// list's, garbage, or the old `after` seq — is a 422 in the error shape.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activeDongle, createOperator, csrf, startFleetApp, type Operator } from '../support/fleet.ts';
import { uploadImage } from '../support/fleet-jobs.ts';
import type { TestApp } from '../support/test-app.ts';

let app: TestApp;
let operator: Operator;
const jobIds: string[] = [];
let started: string;

beforeAll(async () => {
  app = await startFleetApp({ jobs: { tickMs: 200 } });
  operator = await createOperator(app);
  // Offline dongles: the started job's executions stay PENDING (nothing is handed out).
  const dongles: string[] = [];
  for (let i = 0; i < 5; i += 1) dongles.push((await activeDongle(app, operator)).id);
  await app.db.prisma.dongle.updateMany({ where: { id: { in: dongles } }, data: { lastSeenAt: new Date(Date.now() - 3_600_000) } });
  const later = new Date(Date.now() + 3_600_000).toISOString();
  for (const startAt of [later, later, later, undefined]) {
    const res = await operator.agent.post('/api/jobs').set(csrf(operator)).send({ operation: { type: 'COMMAND', command: { type: 'PING' } }, targets: { dongleIds: dongles }, ...(startAt ? { startAt } : {}) });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    jobIds.push(res.body.id);
  }
  started = jobIds.at(-1)!;
  // (expect.poll is for tests only.)
  for (let tries = 0; (await operator.agent.get(`/api/jobs/${started}`)).body.targetCount !== 5; tries += 1) {
    if (tries > 600) throw new Error('the job did not start');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}, 120_000);
afterAll(() => app?.stop());

/** Every page of `path` at `limit` a page, following nextCursor; the pages' sizes and the items. */
async function walk(path: string, limit: number, query: Record<string, string> = {}) {
  const sizes: number[] = [];
  const items: Array<Record<string, unknown>> = [];
  let cursor: string | undefined;
  for (let guard = 0; guard < 20; guard += 1) {
    const res = await operator.agent.get(path).query({ ...query, limit, ...(cursor ? { cursor } : {}) });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    sizes.push(res.body.items.length);
    items.push(...res.body.items);
    if (res.body.nextCursor === null) break;
    cursor = res.body.nextCursor;
  }
  return { sizes, items };
}

async function expectCursorRefused(path: string, query: Record<string, string>) {
  const res = await operator.agent.get(path).query(query);
  expect(res.status, JSON.stringify(res.body)).toBe(422);
  expect(res.body.error).toMatchObject({ code: 'validation_failed', requestId: expect.any(String) });
  expect(res.body.error.details.map((d: { path: string }) => d.path).join(' ')).toMatch(/^query/);
}

describe('job and firmware lists', () => {
  it('pages through the jobs newest first, each with its progress', async () => {
    const { sizes, items } = await walk('/api/jobs', 3);
    expect(sizes).toEqual([3, 1]);
    expect(items.map((j) => j.id)).toEqual([...jobIds].reverse());
    expect(items[0]).toMatchObject({ id: started, targetCount: 5, progress: { PENDING: 5, IN_PROGRESS: 0 } });
    expect(items[1]).toMatchObject({ status: 'SCHEDULED', progress: { PENDING: 0 } });
  });

  it("pages through a job's executions in hand-out order, with a status filter", async () => {
    const all = await walk(`/api/jobs/${started}/executions`, 2);
    expect(all.sizes).toEqual([2, 2, 1]);
    expect(all.items.map((e) => e.seq)).toEqual([0, 1, 2, 3, 4]);
    const pending = await walk(`/api/jobs/${started}/executions`, 4, { status: 'PENDING' });
    expect(pending.sizes).toEqual([4, 1]);
    expect((await walk(`/api/jobs/${started}/executions`, 4, { status: 'FAILED' })).items).toEqual([]);
  });

  it('pages through the firmware images newest first', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i += 1) ids.push((await uploadImage(operator, randomBytes(500), { version: `2.0.${i}` })).id);
    const { sizes, items } = await walk('/api/firmware/images', 2);
    expect(sizes).toEqual([2, 1]);
    expect(items.map((image) => image.id)).toEqual(ids.reverse());
  });

  it("refuses a cursor the list did not issue (garbage, another list's, the old `after`) with 422", async () => {
    const jobsPage = await operator.agent.get('/api/jobs').query({ limit: 1 }).expect(200);
    const executionsPage = await operator.agent.get(`/api/jobs/${started}/executions`).query({ limit: 1 }).expect(200);
    const jobsCursor: string = jobsPage.body.nextCursor;
    const executionsCursor: string = executionsPage.body.nextCursor;
    expect(typeof jobsCursor).toBe('string');
    expect(typeof executionsCursor).toBe('string');
    await expectCursorRefused('/api/jobs', { cursor: 'not-a-cursor' });
    await expectCursorRefused('/api/jobs', { cursor: executionsCursor });
    await expectCursorRefused('/api/firmware/images', { cursor: executionsCursor });
    await expectCursorRefused(`/api/jobs/${started}/executions`, { cursor: jobsCursor });
    await expectCursorRefused(`/api/jobs/${started}/executions`, { cursor: Buffer.from('[-1]').toString('base64url') });
    await expectCursorRefused(`/api/jobs/${started}/executions`, { after: '0' });
  });
});
