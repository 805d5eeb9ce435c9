// The organization matrices, each cell a test row GENERATED from the route table (/openapi.json,
// which every ApiRouter route registers itself in, with its `x-permission`), so a new route
// cannot skip them:
//   - non-member: every /api/orgs/{orgId}/… route with another organization's id → 404, no change;
//   - roles: every route, as every role below its permission's minimum → 403, no change;
//   - BOLA across organizations: every route that names a resource (path id or body id), called
//     by a full owner of organization B inside B with organization A's ids → 404, no change;
//   - coverage: every operator route has a permission and an /api/orgs/{orgId} twin.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { may, PERMISSIONS, type Permission } from '../../src/features/organizations/policy.ts';
import { csrf, heartbeat, startFleetApp } from '../support/fleet.ts';
import { signingKeyPair } from '../support/fleet-jobs.ts';
import { randomDeviceId, type LoggedIn } from '../support/factories.ts';
import { createTeam, invite, type Role, type Team } from '../support/orgs.ts';
import type { TestApp } from '../support/test-app.ts';

interface Operation {
  method: string;
  path: string;
  permission?: Permission;
  hasBody: boolean;
}

// The route table must be known when the tests are collected, so the document is read from an
// app started at import time (top-level await); the fixtures come in beforeAll.
const app: TestApp = await startFleetApp();
const document = (await app.http.get('/openapi.json')).body as { paths: Record<string, Record<string, { 'x-permission'?: Permission; requestBody?: unknown; security?: unknown[] }>> };
const operations: Operation[] = Object.entries(document.paths).flatMap(([path, methods]) =>
  Object.entries(methods).map(([method, op]) => ({ method: method.toUpperCase(), path, permission: op['x-permission'], hasBody: op.requestBody !== undefined })),
);
const ORG = '/api/orgs/{orgId}';
const orgOperations = operations.filter((op) => op.path.startsWith(`${ORG}`) || op.path === ORG);
/** The part after /api/orgs/{orgId}, the key of the samples below. */
const key = (op: Operation) => `${op.method} ${op.path.slice(ORG.length) || '/'}`;

/** Routes that name organization A's resources in their body rather than their path. */
const BODY_NAMES_RESOURCE = new Set(['POST /dongles/claim', 'POST /groups', 'POST /transfer', 'POST /dongles/tags/bulk', 'POST /jobs']);

let a: Team;
let b: Team;
let readKey: string;
const ids: Record<string, string> = {};

/** A valid request body per route (the BOLA cells must pass validation to reach the lookup). */
function sampleBody(op: Operation): Record<string, unknown> | undefined {
  const samples: Record<string, Record<string, unknown>> = {
    'PATCH /agents/{id}': { name: 'pwned' },
    'PATCH /dongles/{id}': { name: 'pwned' },
    'PUT /dongles/{id}/can-config': { mode: 'LOOPBACK', nominalBitrate: 500_000, nominalSamplePoint: 87.5 },
    'PATCH /groups/{id}': { mode: 'PAUSED' },
    'POST /groups': { dongleAId: ids.dongleA!, dongleBId: ids.dongleB! },
    // A's dongle, which B's agent reports too: possession alone opens nothing.
    'POST /dongles/claim': { deviceId: ids.deviceA! },
    'POST /dongles/{id}/commands': { type: 'PING', payload: {} },
    'PATCH /members/{userId}': { role: 'viewer' },
    'POST /transfer': { userId: a.operator.user.id },
    'POST /invitations': { email: 'someone@example.test', role: 'viewer' },
    'POST /api-keys': { name: 'k', scope: 'read' },
    'PATCH /': { name: 'pwned' },
    // Fleet jobs (issue 15): A's dongle, image and job named in the body or the path.
    'PUT /dongles/{id}/tags/{key}': { value: 'pwned' },
    'POST /dongles/tags/bulk': { dongleIds: [ids.dongleA!], set: { pwned: 'yes' } },
    'POST /jobs': { operation: { type: 'COMMAND', command: { type: 'REBOOT' } }, targets: { dongleIds: [ids.dongleA!] } },
    'POST /': { name: 'x' },
  };
  return samples[key(op)] ?? (op.hasBody ? {} : undefined);
}

function fill(op: Operation, orgId: string): string {
  return op.path
    .replace('{orgId}', orgId)
    .replace(/\/(agents|dongles|groups|commands|jobs|firmware\/images|firmware\/signing-keys)\/\{id\}/, (_m, kind: string) => `/${kind}/${ids[kind]}`)
    .replace('{key}', 'env')
    .replace('{userId}', a.operator.user.id)
    .replace('{invitationId}', ids.invitation!)
    .replace('{keyId}', ids.apiKey!);
}

async function call(actor: LoggedIn, op: Operation, orgId: string) {
  const request = actor.agent[op.method.toLowerCase() as 'get'](fill(op, orgId)).set(csrf(actor)).set('If-Match', '1');
  const body = sampleBody(op);
  return body === undefined ? request : request.send(body);
}

/** Everything of organization A a cell could change. */
async function snapshot() {
  const p = app.db.prisma;
  const where = { organizationId: a.orgId };
  return JSON.stringify({
    org: await p.organization.findUnique({ where: { id: a.orgId } }),
    members: await p.membership.findMany({ where, orderBy: { userId: 'asc' } }),
    invitations: await p.invitation.findMany({ where, orderBy: { id: 'asc' } }),
    keys: await p.apiKey.findMany({ where, orderBy: { id: 'asc' }, select: { id: true, revokedAt: true, scope: true } }),
    agents: await p.agent.findMany({ where, include: { tokens: true }, orderBy: { id: 'asc' } }),
    codes: await p.agentEnrollmentCode.count({ where }),
    dongles: await p.dongle.findMany({ where: { id: { in: [ids.dongleA!, ids.dongleB!] } }, orderBy: { id: 'asc' } }),
    groups: await p.dongleGroup.findMany({ where, orderBy: { id: 'asc' } }),
    configs: await p.canConfig.findMany({ where: { dongleId: { in: [ids.dongleA!, ids.dongleB!] } } }),
    commands: await p.command.findMany({ where, orderBy: { id: 'asc' }, select: { id: true, status: true } }),
    jobs: await p.job.findMany({ where, orderBy: { id: 'asc' }, select: { id: true, status: true, statusReason: true, updatedAt: true } }),
    images: await p.firmwareImage.findMany({ where, orderBy: { id: 'asc' }, select: { id: true, sha256: true } }),
    signingKeys: await p.signingKey.findMany({ where, orderBy: { id: 'asc' } }),
  });
}

/** A CLAIMED_ACTIVE dongle of team `t`, through the organization routes. */
async function activeOrgDongle(t: Team) {
  const deviceId = randomDeviceId();
  await heartbeat(app, t.agentAuth, [deviceId]);
  const claimed = await t.operator.agent.post(`/api/orgs/${t.orgId}/dongles/claim`).set(csrf(t.operator)).send({ deviceId });
  expect(claimed.status, JSON.stringify(claimed.body)).toBe(202);
  expect((await app.http.post(`/api/agent/dongles/${deviceId}/token`).set('Authorization', t.agentAuth)).status).toBe(200);
  expect((await app.http.post(`/api/agent/dongles/${deviceId}/token/ack`).set('Authorization', t.agentAuth)).status).toBe(200);
  return { id: claimed.body.id as string, deviceId };
}

beforeAll(async () => {
  a = await createTeam(app, 'A');
  b = await createTeam(app, 'B');
  const [dongleA, dongleB] = [await activeOrgDongle(a), await activeOrgDongle(a)];
  ids.agents = a.agentRow.id;
  ids.dongles = ids.dongleA = dongleA.id;
  ids.dongleB = dongleB.id;
  ids.deviceA = dongleA.deviceId;
  // B's agent reports A's dongles too.
  await heartbeat(app, b.agentAuth, [dongleA.deviceId, dongleB.deviceId]);
  const group = await a.operator.agent.post(`/api/orgs/${a.orgId}/groups`).set(csrf(a.operator)).send({ dongleAId: dongleA.id, dongleBId: dongleB.id });
  expect(group.status).toBe(201);
  ids.groups = group.body.id;
  const config = await a.operator.agent.put(`/api/orgs/${a.orgId}/dongles/${dongleA.id}/can-config`).set(csrf(a.operator)).set('If-Match', '0').send({ mode: 'NORMAL', nominalBitrate: 500_000, nominalSamplePoint: 87.5 });
  expect(config.status, JSON.stringify(config.body)).toBe(200);
  ids.commands = config.body.applyCommandId;
  ids.invitation = (await invite(app, a.admin, a.orgId, 'pending@example.test', 'viewer')).invitation.id;
  const key = await a.operator.agent.post(`/api/orgs/${a.orgId}/api-keys`).set(csrf(a.operator)).send({ name: 'ci', scope: 'read' });
  ids.apiKey = key.body.id;
  readKey = `Bearer ${key.body.key as string}`;
  // Fleet jobs: a tag, an image, a signing key and a job (not started) of A.
  await a.operator.agent.put(`/api/orgs/${a.orgId}/dongles/${dongleA.id}/tags/env`).set(csrf(a.operator)).send({ value: 'prod' }).expect(200);
  const image = await a.operator.agent.post(`/api/orgs/${a.orgId}/firmware/images`).query({ version: '1.0.0', chipFamily: 'stm32g4', boardRevision: 'rev-b' }).set(csrf(a.operator)).set('Content-Type', 'application/octet-stream').send(Buffer.from('firmware'));
  expect(image.status, JSON.stringify(image.body)).toBe(201);
  ids['firmware/images'] = image.body.id;
  const signingKey = await a.admin.agent.post(`/api/orgs/${a.orgId}/firmware/signing-keys`).set(csrf(a.admin)).send({ name: 'rel', publicKey: signingKeyPair().publicKeyBase64 });
  expect(signingKey.status, JSON.stringify(signingKey.body)).toBe(201);
  ids['firmware/signing-keys'] = signingKey.body.id;
  const job = await a.operator.agent.post(`/api/orgs/${a.orgId}/jobs`).set(csrf(a.operator)).send({ operation: { type: 'COMMAND', command: { type: 'PING' } }, targets: { dongleIds: [dongleA.id] }, startAt: new Date(Date.now() + 3_600_000).toISOString() });
  expect(job.status, JSON.stringify(job.body)).toBe(201);
  ids.jobs = job.body.id;
});
afterAll(() => app.stop());

describe('the route table', () => {
  it('gives every organization route a permission', () => {
    expect(orgOperations.length).toBeGreaterThan(30);
    expect(orgOperations.filter((op) => !op.permission).map(key)).toEqual([]);
  });

  it('gives every operator fleet route a permission and an /api/orgs/{orgId} twin', () => {
    const fleet = operations.filter((op) => /^\/api\/(agents|dongles|groups|commands|jobs|firmware)(\/|$)/.test(op.path));
    expect(fleet.length).toBeGreaterThan(10);
    for (const op of fleet) {
      expect(op.permission, `${op.method} ${op.path}`).toBeDefined();
      expect(operations.some((twin) => twin.method === op.method && twin.path === `${ORG}${op.path.slice(4)}`), `${op.method} ${op.path} has no org twin`).toBe(true);
    }
  });

  it('shows each permission route with its API-key security in the OpenAPI document', () => {
    for (const [path, methods] of Object.entries(document.paths)) {
      for (const op of Object.values(methods)) if (op['x-permission']) expect(JSON.stringify(op.security), path).toContain('apiKey');
    }
  });
});

describe('a non-member', () => {
  it.each(orgOperations.map((op) => [key(op), op] as const))('%s → 404, nothing changed', async (_name, op) => {
    const before = await snapshot();
    const res = await call(b.owner, op, a.orgId);
    expect(res.status, JSON.stringify(res.body)).toBe(404);
    expect(await snapshot()).toBe(before);
  });
});

const ROLES: Exclude<Role, 'owner'>[] = ['admin', 'operator', 'viewer'];
const roleCells = orgOperations.flatMap((op) => ROLES.filter((role) => op.permission && !may(role, op.permission)).map((role) => [role, key(op), op] as const));

describe('a role below the route’s permission', () => {
  it('includes every state-changing route for a viewer, except its own membership and keys', () => {
    const viewerMay = orgOperations.filter((op) => op.method !== 'GET' && op.permission && may('viewer', op.permission)).map(key).sort();
    expect(viewerMay).toEqual(['DELETE /api-keys/{keyId}', 'POST /api-keys', 'POST /leave']);
  });

  it.each(roleCells)('%s: %s → 403, nothing changed', async (role, _name, op) => {
    const before = await snapshot();
    const res = await call(a.members[role], op, a.orgId);
    expect(res.status, JSON.stringify(res.body)).toBe(403);
    expect(await snapshot()).toBe(before);
    expect(PERMISSIONS[op.permission!]).not.toBe(role);
  });
});

// The unscoped twins act in an API key's organization: a read key (a viewer's power) on each of
// them that needs more than fleet.read → 403, nothing changed.
const unscopedCells = operations
  .filter((op) => !op.path.startsWith('/api/orgs') && op.permission && !may('viewer', op.permission))
  .map((op) => [`${op.method} ${op.path}`, op] as const);

describe('a read-scoped API key on the unscoped routes (the key’s organization)', () => {
  it.each(unscopedCells)('%s → 403, nothing changed', async (_name, op) => {
    const before = await snapshot();
    const path = op.path.replace(/\/(agents|dongles|groups|commands)\/\{id\}/, (_m, kind: string) => `/${kind}/${ids[kind]}`);
    const request = app.http[op.method.toLowerCase() as 'get'](path).set('Authorization', readKey).set('If-Match', '1');
    const body = sampleBody({ ...op, path: `${ORG}${op.path.slice(4)}` });
    const res = await (body === undefined ? request : request.send(body));
    expect(res.status, JSON.stringify(res.body)).toBe(403);
    expect(await snapshot()).toBe(before);
  });
});

const bolaCells = orgOperations.filter((op) => /\{(id|userId|invitationId|keyId)\}/.test(op.path) || BODY_NAMES_RESOURCE.has(key(op)));

describe("another organization's owner, inside their own organization, with our ids", () => {
  it('covers every route that names a resource', () => {
    expect(bolaCells.length).toBeGreaterThan(15);
  });

  it.each(bolaCells.map((op) => [key(op), op] as const))('%s → 404, nothing changed', async (_name, op) => {
    const before = await snapshot();
    const res = await call(b.owner, op, b.orgId);
    expect(res.status, JSON.stringify(res.body)).toBe(404);
    expect(await snapshot()).toBe(before);
  });
});
