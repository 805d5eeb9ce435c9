// Who may do what with tags, firmware, signing keys and jobs: the role rows (viewer reads,
// operator runs jobs and uploads images, admin registers signing keys) and the BOLA rows (a
// non-member gets 404 on /api/orgs/:orgId/…, and the organization's ids are 404 through the
// outsider's own, unscoped routes). Also the agent download: only to the agent holding a
// DELIVERED update for the image, with HTTP Range.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueueCommand } from '../../src/features/commands/command-queue.ts';
import { createLoggedInUser, randomDeviceId } from '../support/factories.ts';
import { createOperator, csrf, heartbeat, startFleetApp } from '../support/fleet.ts';
import { signingKeyPair } from '../support/fleet-jobs.ts';
import { createTeam, type Team } from '../support/orgs.ts';
import type { TestApp } from '../support/test-app.ts';

let app: TestApp;
let team: Team;
let outsider: Awaited<ReturnType<typeof createLoggedInUser>>;
let dongleId: string;
let deviceId: string;
let imageId: string;
let jobId: string;
const image = randomBytes(1_000);
const key = signingKeyPair();

beforeAll(async () => {
  app = await startFleetApp();
  team = await createTeam(app);
  outsider = await createLoggedInUser(app.db, app.url);
  deviceId = randomDeviceId();
  await heartbeat(app, team.agentAuth, [deviceId]);
  const dongle = await app.db.prisma.dongle.update({ where: { deviceId }, data: { ownershipState: 'CLAIMED_ACTIVE', ownerUserId: team.owner.user.id, organizationId: team.orgId } });
  dongleId = dongle.id;
  const upload = await team.operator.agent
    .post(`/api/orgs/${team.orgId}/firmware/images`)
    .query({ version: '1.0.0', chipFamily: 'stm32g4', boardRevision: 'rev-b' })
    .set(csrf(team.operator))
    .set('Content-Type', 'application/octet-stream')
    .send(image);
  expect(upload.status, JSON.stringify(upload.body)).toBe(201);
  imageId = upload.body.id;
  const job = await team.operator.agent
    .post(`/api/orgs/${team.orgId}/jobs`)
    .set(csrf(team.operator))
    .send({ operation: { type: 'COMMAND', command: { type: 'PING' } }, targets: { dongleIds: [dongleId] }, startAt: new Date(Date.now() + 3_600_000).toISOString() });
  expect(job.status, JSON.stringify(job.body)).toBe(201);
  jobId = job.body.id;
});
afterAll(() => app.stop());

type Role = 'viewer' | 'operator' | 'admin';
type Call = (who: Team['owner']) => Promise<{ status: number; body: { error?: { code: string } } }>;

const base = () => `/api/orgs/${team.orgId}`;
const reads: Array<[string, Call]> = [
  ['GET dongles?selector', (m) => m.agent.get(`${base()}/dongles`).query({ selector: 'env=prod' })],
  ['GET dongle tags', (m) => m.agent.get(`${base()}/dongles/${dongleId}/tags`)],
  ['GET firmware images', (m) => m.agent.get(`${base()}/firmware/images`)],
  ['GET firmware image', (m) => m.agent.get(`${base()}/firmware/images/${imageId}`)],
  ['GET signing keys', (m) => m.agent.get(`${base()}/firmware/signing-keys`)],
  ['GET jobs', (m) => m.agent.get(`${base()}/jobs`)],
  ['GET job', (m) => m.agent.get(`${base()}/jobs/${jobId}`)],
  ['GET job executions', (m) => m.agent.get(`${base()}/jobs/${jobId}/executions`)],
];
const operations: Array<[string, Call]> = [
  ['PUT tag', (m) => m.agent.put(`${base()}/dongles/${dongleId}/tags/env`).set(csrf(m)).send({ value: 'prod' })],
  ['DELETE tag', (m) => m.agent.delete(`${base()}/dongles/${dongleId}/tags/env`).set(csrf(m))],
  ['POST tags bulk', (m) => m.agent.post(`${base()}/dongles/tags/bulk`).set(csrf(m)).send({ dongleIds: [dongleId], set: { site: 'lab' } })],
  ['POST firmware image', (m) => m.agent.post(`${base()}/firmware/images`).query({ version: `1.0.${randomBytes(2).readUInt16BE()}`, chipFamily: 'stm32g4', boardRevision: 'rev-b' }).set(csrf(m)).set('Content-Type', 'application/octet-stream').send(image)],
  ['POST job', (m) => m.agent.post(`${base()}/jobs`).set(csrf(m)).send({ operation: { type: 'COMMAND', command: { type: 'PING' } }, targets: { selector: 'env=none' }, startAt: new Date(Date.now() + 3_600_000).toISOString() })],
  ['POST job pause', (m) => m.agent.post(`${base()}/jobs/${jobId}/pause`).set(csrf(m))],
  ['POST job resume', (m) => m.agent.post(`${base()}/jobs/${jobId}/resume`).set(csrf(m))],
];
const adminOnly: Array<[string, Call]> = [
  ['POST signing key', (m) => m.agent.post(`${base()}/firmware/signing-keys`).set(csrf(m)).send({ name: 'k', publicKey: key.publicKeyBase64 })],
];

describe('role rows', () => {
  it.each(reads)('%s: a viewer may read', async (_name, call) => {
    const res = await call(team.viewer);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  });

  it.each([...operations, ...adminOnly])('%s: a viewer gets 403', async (_name, call) => {
    const res = await call(team.viewer);
    expect(res.status).toBe(403);
    expect(res.body.error?.code).toBe('forbidden');
  });

  it.each(operations)('%s: an operator may', async (_name, call) => {
    const res = await call(team.operator);
    expect([200, 201], JSON.stringify(res.body)).toContain(res.status);
  });

  it.each(adminOnly)('%s: an operator gets 403, an admin may', async (_name, call) => {
    expect((await call(team.operator)).status).toBe(403);
    expect((await call(team.admin)).status).toBe(201);
  });

  it('lets an admin revoke a signing key and refuses an operator', async () => {
    const created = await team.admin.agent.post(`${base()}/firmware/signing-keys`).set(csrf(team.admin)).send({ name: 'to-revoke', publicKey: signingKeyPair().publicKeyBase64 });
    expect((await team.operator.agent.delete(`${base()}/firmware/signing-keys/${created.body.id}`).set(csrf(team.operator))).status).toBe(403);
    const revoked = await team.admin.agent.delete(`${base()}/firmware/signing-keys/${created.body.id}`).set(csrf(team.admin));
    expect(revoked.status).toBe(200);
    expect(revoked.body.revokedAt).not.toBeNull();
  });

  it('lets an operator cancel a job and audits every job action with its actor', async () => {
    const res = await team.operator.agent.post(`${base()}/jobs/${jobId}/cancel`).set(csrf(team.operator));
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('CANCELLED');
    expect((await team.operator.agent.post(`${base()}/jobs/${jobId}/resume`).set(csrf(team.operator))).status).toBe(409);
    const audit = await app.db.prisma.auditLog.findMany({ where: { targetId: jobId }, orderBy: { createdAt: 'asc' } });
    expect(audit.map((a) => [a.action, a.actorId]), JSON.stringify(audit.map((a) => [a.action, a.actorType, a.details]))).toEqual([
      ['job.create', team.operator.user.id],
      ['job.pause', team.operator.user.id],
      ['job.resume', team.operator.user.id],
      ['job.cancel', team.operator.user.id],
    ]);
    expect(audit.every((a) => a.organizationId === team.orgId)).toBe(true); // in the organization's audit log
  });
});

describe('BOLA rows', () => {
  it.each([...reads, ...operations, ...adminOnly])('%s: a non-member gets 404 under the organization', async (_name, call) => {
    expect((await call(outsider)).status).toBe(404);
  });

  it("answers 404 for the organization's ids through the outsider's own routes, and changes nothing", async () => {
    const o = outsider;
    const before = await app.db.prisma.dongle.findUnique({ where: { id: dongleId }, select: { tags: true } });
    const calls = [
      o.agent.get(`/api/dongles/${dongleId}/tags`),
      o.agent.put(`/api/dongles/${dongleId}/tags/env`).set(csrf(o)).send({ value: 'x' }),
      o.agent.delete(`/api/dongles/${dongleId}/tags/site`).set(csrf(o)),
      o.agent.post('/api/dongles/tags/bulk').set(csrf(o)).send({ dongleIds: [dongleId], set: { x: 'y' } }),
      o.agent.get(`/api/firmware/images/${imageId}`),
      o.agent.get(`/api/jobs/${jobId}`),
      o.agent.get(`/api/jobs/${jobId}/executions`),
      o.agent.post(`/api/jobs/${jobId}/pause`).set(csrf(o)),
      o.agent.post(`/api/jobs/${jobId}/cancel`).set(csrf(o)),
      o.agent.post('/api/jobs').set(csrf(o)).send({ operation: { type: 'FIRMWARE_UPDATE', imageId }, targets: { selector: 'a=b' } }),
      o.agent.post('/api/jobs').set(csrf(o)).send({ operation: { type: 'COMMAND', command: { type: 'PING' } }, targets: { dongleIds: [dongleId] } }),
    ];
    for (const [i, res] of (await Promise.all(calls)).entries()) expect(res.status, `call ${i}`).toBe(404);
    expect((await o.agent.get('/api/firmware/images')).body.items).toEqual([]);
    expect((await o.agent.get('/api/jobs')).body.items).toEqual([]);
    expect(await app.db.prisma.dongle.findUnique({ where: { id: dongleId }, select: { tags: true } })).toEqual(before);
  });
});

describe('agent firmware download', () => {
  const download = (auth: string, range?: string) => {
    const req = app.http.get(`/api/agent/firmware/${imageId}`).set('Authorization', auth).buffer(true).parse((res, done) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => done(null, Buffer.concat(chunks)));
    });
    return range ? req.set('Range', range) : req;
  };

  it('serves nothing without a DELIVERED update, then full and ranged bytes to the agent holding one, and nothing to another agent', async () => {
    expect((await download(team.agentAuth)).status).toBe(404);
    const meta = (await team.viewer.agent.get(`${base()}/firmware/images/${imageId}`)).body;
    const command = await app.db.prisma.$transaction((tx) =>
      enqueueCommand(tx, {
        dongleId,
        type: 'FIRMWARE_UPDATE',
        createdByUserId: team.owner.user.id,
        payload: { imageId, version: '1.0.0', chipFamily: 'stm32g4', boardRevision: 'rev-b', size: meta.size, sha256: meta.sha256, signature: null, publicKey: null, downloadPath: `/api/agent/firmware/${imageId}` },
      }),
    );
    expect((await download(team.agentAuth)).status).toBe(404); // QUEUED is not enough
    const polled = await app.http.get('/api/agent/commands?wait=0').set('Authorization', team.agentAuth).expect(200);
    expect(polled.body.commands.map((c: { id: string }) => c.id)).toContain(command.id);

    const full = await download(team.agentAuth);
    expect(full.status).toBe(200);
    expect(Buffer.compare(full.body as Buffer, image)).toBe(0);
    expect(full.headers['accept-ranges']).toBe('bytes');
    expect(full.headers.etag).toBe(`"${meta.sha256}"`);

    const first = await download(team.agentAuth, 'bytes=0-99');
    expect(first.status).toBe(206);
    expect(first.headers['content-range']).toBe('bytes 0-99/1000');
    const rest = await download(team.agentAuth, 'bytes=100-');
    expect(rest.status).toBe(206);
    expect(Buffer.compare(Buffer.concat([first.body as Buffer, rest.body as Buffer]), image)).toBe(0);
    expect((await download(team.agentAuth, 'bytes=-10')).headers['content-range']).toBe('bytes 990-999/1000');
    const beyond = await download(team.agentAuth, 'bytes=5000-');
    expect(beyond.status).toBe(416);
    expect(beyond.headers['content-range']).toBe('bytes */1000');

    const stranger = await createOperator(app);
    expect((await download(stranger.agentAuth)).status).toBe(404);
    await app.http.post(`/api/agent/commands/${command.id}/result`).set('Authorization', team.agentAuth).send({ status: 'FAILED', error: 'test' }).expect(200);
    expect((await download(team.agentAuth)).status).toBe(404); // finished: no longer served
  });
});

describe('firmware upload rules', () => {
  const upload = (query: Record<string, string>, body: Buffer, type = 'application/octet-stream') =>
    team.operator.agent.post(`${base()}/firmware/images`).query({ chipFamily: 'stm32g4', boardRevision: 'rev-b', ...query }).set(csrf(team.operator)).set('Content-Type', type).send(body);

  it('refuses a non-semver version, JSON, an empty body, a duplicate version, and a body over the limit', async () => {
    expect((await upload({ version: '1.0' }, image)).status).toBe(422);
    expect((await upload({ version: '9.9.9' }, Buffer.from('{}'), 'application/json')).status).toBe(415);
    expect((await upload({ version: '9.9.8' }, Buffer.alloc(0))).body.error.code).toBe('empty_image');
    expect((await upload({ version: '1.0.0' }, image)).body.error.code).toBe('firmware_version_exists');
    const big = await upload({ version: '9.9.7' }, Buffer.alloc(app.config.firmware.maxBytes + 1));
    expect(big.status).toBe(413);
    expect(big.body.error.message).toContain(String(app.config.firmware.maxBytes));
  });

  it('verifies a signature against a registered key and refuses a bad one', async () => {
    const registered = await team.admin.agent.post(`${base()}/firmware/signing-keys`).set(csrf(team.admin)).send({ name: 'rel', publicKey: key.publicKeyBase64 });
    const ok = await upload({ version: '2.0.0', signature: key.sign(image), signingKeyId: registered.body.id }, image);
    expect(ok.status, JSON.stringify(ok.body)).toBe(201);
    expect(ok.body.signed).toBe(true);
    const bad = await upload({ version: '2.0.1', signature: signingKeyPair().sign(image), signingKeyId: registered.body.id }, image);
    expect(bad.body.error.code).toBe('signature_invalid');
    const notKey = await team.admin.agent.post(`${base()}/firmware/signing-keys`).set(csrf(team.admin)).send({ name: 'x', publicKey: 'AAAA' });
    expect(notKey.status).toBe(422);
    const unsignedJob = await team.operator.agent.post(`${base()}/jobs`).set(csrf(team.operator)).send({ operation: { type: 'FIRMWARE_UPDATE', imageId }, targets: { dongleIds: [dongleId] }, requireSigned: true });
    expect(unsignedJob.body.error.code).toBe('image_not_signed');
  });
});
