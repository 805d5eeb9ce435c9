// Bad input is a 4xx, never a 500, on EVERY route the API documents: the routes are read from
// GET /openapi.json of the running app, and each gets a corpus of values PostgreSQL cannot store
// (NUL, lone surrogates) in its path params, query and every body field, JSON nested thousands
// deep, cursors for year 0000, and a body labelled gzip that is not. Requests are authenticated
// the way the route asks (admin session with CSRF, or an agent bearer), with real ids, so a value
// the edge let through would reach the service and the database.
import http from 'node:http';
import { gzipSync } from 'node:zlib';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgent, createDongle, createLoggedInUser, createUser, DEFAULT_PASSWORD } from '../support/factories.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.stop());

/** In JSON bodies: each is a string JavaScript holds and PostgreSQL refuses. */
const TEXT_CORPUS = ['x\u0000y', '\ud800', 'a\udc00b', '\u0000'];
/** In URLs: NUL, and the CESU bytes of a lone surrogate. */
const URL_CORPUS = ['x%00y', '%00', '%ED%A0%80'];

const deep = (levels: number): unknown => JSON.parse('['.repeat(levels) + ']'.repeat(levels));

const year0000Cursors = [
  Buffer.from(JSON.stringify(['0000-01-01 00:00:00+00', randomUUID()])).toString('base64url'),
  Buffer.from(JSON.stringify(['2024-02-31 00:00:00+00', randomUUID()])).toString('base64url'),
  Buffer.from(`0000-01-01T00:00:00.000000Z|${randomUUID()}`).toString('base64url'),
];

interface Operation {
  method: string;
  path: string;
  auth: 'public' | 'session' | 'agent';
  params: Array<{ name: string; in: string; schema: JsonSchema }>;
  body?: JsonSchema;
}

interface JsonSchema {
  type?: string;
  enum?: unknown[];
  format?: string;
  pattern?: string;
  minimum?: number;
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  allOf?: JsonSchema[];
  $ref?: string;
}

interface Raw {
  status: number;
  body: string;
}

/** node:http, so paths, bodies and headers go out exactly as written. */
function send(method: string, path: string, headers: Record<string, string>, body?: string | Buffer): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const request = http.request(`${app.url}${path}`, { method, headers: { ...headers, ...(body !== undefined ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) } : {}) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    request.on('error', reject);
    request.end(body);
  });
}

/** Everything one request needs: the caller's headers and ids of things the caller owns. */
interface World {
  headers: Record<string, string>;
  ids: Record<string, string>;
  deliveredCommand(): Promise<string>;
}

async function worldFor(auth: Operation['auth']): Promise<World> {
  // Fresh per route: logout, token rotation or a revoke must not spoil the next route.
  const admin = await createLoggedInUser(app.db, app.url, { role: 'admin' });
  const agent = await createAgent(app.db, admin.user.id);
  const other = await createAgent(app.db, admin.user.id, 'other-pc');
  const dongle = await createDongle(app.db, { ownerUserId: admin.user.id, lastSeenAgentId: agent.agent.id });
  const second = await createDongle(app.db, { ownerUserId: admin.user.id, lastSeenAgentId: agent.agent.id });
  const group = await admin.agent.post('/api/groups').set('X-CSRF-Token', admin.csrfToken).send({ dongleAId: dongle.id, dongleBId: second.id });
  expect(group.status, JSON.stringify(group.body)).toBe(201);
  // Two more, not grouped, for bodies that name dongles (a new group).
  const free = [await createDongle(app.db, { ownerUserId: admin.user.id }), await createDongle(app.db, { ownerUserId: admin.user.id })];
  const command = await app.db.prisma.command.create({ data: { dongleId: dongle.id, createdByUserId: admin.user.id, type: 'PING', expiresAt: new Date(Date.now() + 3_600_000) } });
  const plainUser = await createUser(app.db);
  const headers: Record<string, string> =
    auth === 'agent' ? { authorization: agent.authorization } : auth === 'session' ? { cookie: admin.cookie, 'x-csrf-token': admin.csrfToken } : {};
  return {
    headers,
    ids: { dongle: dongle.id, second: second.id, deviceId: dongle.deviceId, group: group.body.id as string, freeA: free[0]!.id, freeB: free[1]!.id, command: command.id, agent: other.agent.id, user: plainUser.id },
    // A result post needs a command DELIVERED to the calling agent, one per request.
    deliveredCommand: async () =>
      (
        await app.db.prisma.command.create({
          data: { dongleId: dongle.id, createdByUserId: admin.user.id, type: 'PING', status: 'DELIVERED', agentId: agent.agent.id, deliveredAt: new Date(), expiresAt: new Date(Date.now() + 3_600_000) },
        })
      ).id,
  };
}

/** The real id a path parameter names, by route. */
async function paramValue(operation: Operation, name: string, world: World): Promise<string> {
  const { path } = operation;
  if (name === 'deviceId') return world.ids.deviceId!;
  if (path.startsWith('/api/agent/commands/')) return world.deliveredCommand();
  if (path.startsWith('/api/commands/')) return world.ids.command!;
  if (path.startsWith('/api/groups/')) return world.ids.group!;
  if (path.startsWith('/api/agents/')) return world.ids.agent!;
  if (path.startsWith('/api/admin/users/')) return world.ids.user!;
  if (path.includes('/dongles/')) return world.ids.dongle!;
  return randomUUID();
}

/** A body of the schema's shape whose free-text strings are all `text`. */
function bodyFor(schema: JsonSchema, text: string, world: World, name = ''): unknown {
  if (schema.oneOf ?? schema.anyOf) return bodyFor((schema.oneOf ?? schema.anyOf)![0]!, text, world, name);
  if (schema.allOf) return bodyFor(schema.allOf[0]!, text, world, name);
  if (schema.$ref) return text;
  if (schema.enum) return schema.enum[0];
  switch (schema.type) {
    case 'object':
      return Object.fromEntries(Object.entries(schema.properties ?? {}).map(([key, child]) => [key, bodyFor(child, text, world, key)]));
    case 'array':
      return schema.items ? [bodyFor(schema.items, text, world, name)] : [];
    case 'integer':
    case 'number':
      return schema.minimum ?? 1;
    case 'boolean':
      return true;
    case 'string':
      if (schema.format === 'uuid') return name === 'dongleBId' ? world.ids.freeB : world.ids.freeA;
      if (name === 'deviceId') return world.ids.deviceId;
      if (name === 'email') return `a${text}b@example.test`;
      return text;
    default:
      return text;
  }
}

/** Each shape a body may take: every oneOf variant, and each value of a top-level enum field. */
function bodyVariants(schema: JsonSchema, text: string, world: World): unknown[] {
  const variants = schema.oneOf ?? schema.anyOf;
  if (variants) return variants.flatMap((variant) => bodyVariants(variant, text, world));
  const base = bodyFor(schema, text, world);
  if (schema.type !== 'object' || !base || typeof base !== 'object') return [base];
  const more = Object.entries(schema.properties ?? {}).flatMap(([key, child]) => (child.enum ?? []).slice(1).map((value) => ({ ...base, [key]: value })));
  return [base, ...more];
}

async function loadOperations(): Promise<Operation[]> {
  const res = await app.http.get('/openapi.json');
  expect(res.status).toBe(200);
  const operations: Operation[] = [];
  for (const [path, methods] of Object.entries<Record<string, { security: Array<Record<string, unknown>>; parameters: Operation['params']; requestBody?: { content: Record<string, { schema: JsonSchema }> } }>>(res.body.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const scheme = op.security[0] ?? {};
      operations.push({
        method: method.toUpperCase(),
        path,
        auth: 'agentToken' in scheme ? 'agent' : 'sessionCookie' in scheme ? 'session' : 'public',
        params: op.parameters ?? [],
        body: op.requestBody?.content['application/json']?.schema,
      });
    }
  }
  return operations;
}

describe('hostile input on every documented route', () => {
  it('answers every route and every value of the corpus with a 4xx or a success, never a 5xx', { timeout: 600_000 }, async () => {
    const operations = await loadOperations();
    expect(operations.length).toBeGreaterThan(40);
    const failures: string[] = [];
    let sent = 0;
    const check = (label: string, res: Raw) => {
      sent++;
      if (res.status >= 500) failures.push(`${label} → ${res.status} ${res.body.slice(0, 160)}`);
      else if (res.status >= 400) {
        // A refusal is in the error shape.
        const body = JSON.parse(res.body) as { error?: { code?: string; requestId?: string } };
        if (!body.error?.code || !body.error.requestId) failures.push(`${label} → ${res.status} not in the error shape: ${res.body.slice(0, 160)}`);
      }
    };

    for (const operation of operations) {
      const world = await worldFor(operation.auth);
      const pathParams = operation.params.filter((p) => p.in === 'path');
      const queryParams = operation.params.filter((p) => p.in === 'query');
      const realPath = async () => {
        let path = operation.path;
        for (const param of pathParams) path = path.replace(`{${param.name}}`, encodeURIComponent(await paramValue(operation, param.name, world)));
        return path;
      };
      const validBody = operation.body ? JSON.stringify(bodyFor(operation.body, 'plain text', world)) : undefined;
      const label = (what: string) => `${operation.method} ${operation.path} [${what}]`;

      // Path parameters, one at a time.
      for (const param of pathParams) {
        for (const value of URL_CORPUS) {
          const path = (await realPath()).replace(encodeURIComponent(await paramValue(operation, param.name, world)), value);
          check(label(`path ${param.name}=${value}`), await send(operation.method, path, world.headers, validBody));
        }
      }
      // Query parameters, one at a time; cursors also get well-formed ones for impossible dates.
      for (const param of queryParams) {
        const values = param.name === 'cursor' ? [...URL_CORPUS, ...year0000Cursors] : URL_CORPUS;
        for (const value of values) {
          check(label(`query ${param.name}=${value}`), await send(operation.method, `${await realPath()}?${param.name}=${value}`, world.headers, validBody));
        }
      }
      if (!operation.body) continue;
      // Every free-text body field at once, for each value PostgreSQL cannot store.
      for (const text of TEXT_CORPUS) {
        for (const body of bodyVariants(operation.body, text, world)) {
          check(label(`body ${JSON.stringify(body).slice(0, 80)}`), await send(operation.method, await realPath(), world.headers, JSON.stringify(body)));
        }
      }
      // Each top-level field nested 3,000 deep (the rest valid).
      const valid = JSON.parse(validBody!) as Record<string, unknown>;
      for (const key of Object.keys(valid)) {
        check(label(`body ${key} nested 3000 deep`), await send(operation.method, await realPath(), world.headers, JSON.stringify({ ...valid, [key]: deep(3000) })));
      }
      // A body that says gzip and is not.
      check(label('Content-Encoding: gzip over plain JSON'), await send(operation.method, await realPath(), { ...world.headers, 'content-encoding': 'gzip' }, validBody));
    }

    expect(failures, failures.join('\n')).toEqual([]);
    expect(sent).toBeGreaterThan(300);
  });

  it('names the field that holds text PostgreSQL cannot store, with a 422', async () => {
    const admin = await createLoggedInUser(app.db, app.url);
    const dongle = await createDongle(app.db, { ownerUserId: admin.user.id });
    for (const name of ['bad\u0000name', 'bad\ud800name']) {
      const res = await admin.agent.patch(`/api/dongles/${dongle.id}`).set('X-CSRF-Token', admin.csrfToken).send({ name });
      expect(res.status).toBe(422);
      expect(res.body.error).toMatchObject({ code: 'validation_failed', details: [expect.objectContaining({ path: 'body.name', code: 'unstorable_text' })] });
    }
    const query = await admin.agent.get('/api/dongles?cursor=%00');
    expect(query.status).toBe(422);
    expect(query.body.error.details[0]).toMatchObject({ path: 'query.cursor', code: 'unstorable_text' });
    // The dongle kept its name; nothing half-written.
    expect((await app.db.prisma.dongle.findUniqueOrThrow({ where: { id: dongle.id } })).name).toBeNull();
  });

  it('refuses JSON nested deeper than the limit with a 422, and a cursor for year 0000 with a 422', async () => {
    const admin = await createLoggedInUser(app.db, app.url);
    const agent = await createAgent(app.db, admin.user.id);
    const deepRes = await app.http.post('/api/agent/heartbeat').set('Authorization', agent.authorization).send({ version: '1.0.0', dongles: [], extra: deep(3000) });
    expect(deepRes.status).toBe(422);
    expect(deepRes.body.error.details[0]).toMatchObject({ code: 'too_deep' });
    const cursor = await admin.agent.get(`/api/dongles?cursor=${year0000Cursors[0]}`);
    expect(cursor.status).toBe(422);
    expect(cursor.body.error.details[0]).toMatchObject({ path: 'query.cursor' });
  });

  it('answers a body labelled gzip that is not gzip with a 400 malformed_body', async () => {
    const res = await send('POST', '/api/auth/login', { 'content-encoding': 'gzip' }, JSON.stringify({ email: 'a@example.test', password: DEFAULT_PASSWORD }));
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body).error.code).toBe('malformed_body');
    // A real gzip body still works.
    const user = await createUser(app.db);
    const real = await send('POST', '/api/auth/login', { 'content-encoding': 'gzip' }, gzipSync(JSON.stringify({ email: user.email, password: user.password })));
    expect(real.status).toBe(200);
  });
});
