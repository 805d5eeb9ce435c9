// The API contract: /openapi.json is a valid OpenAPI 3.1 document (checked by two independent
// validators), and every operation says who may call it, how it is named and how it fails.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import SwaggerParser from '@apidevtools/swagger-parser';
import { createConfig, lintFromString } from '@redocly/openapi-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { API_CLIENT_DIR } from '../../src/cli/api-client.ts';
import { OpenApiRegistry } from '../../src/platform/http/openapi.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';

interface Operation {
  operationId?: string;
  security?: Record<string, string[]>[];
  parameters?: { in: string; name: string }[];
  requestBody?: unknown;
  'x-permission'?: string;
  responses: Record<string, unknown>;
}

let app: TestApp;
let doc: { openapi: string; servers?: unknown[]; paths: Record<string, Record<string, Operation>>; components: { securitySchemes: Record<string, unknown> } };
beforeAll(async () => {
  app = await startTestApp();
  const res = await app.http.get('/openapi.json');
  expect(res.status).toBe(200);
  doc = res.body;
});
afterAll(() => app.stop());

const operations = () => Object.entries(doc.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => ({ path, method, op })));
const authOf = (path: string, method: string) => app.server.app.openapi.list().find((r) => r.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}') === path && r.method === method)!.auth;

describe('the OpenAPI document', () => {
  it('is valid OpenAPI 3.1 for swagger-parser, every $ref resolving', async () => {
    expect(doc.openapi).toBe('3.1.0');
    await expect(SwaggerParser.validate(structuredClone(doc) as never)).resolves.toBeDefined();
  });

  it("passes Redocly's recommended rules with no error or warning", async () => {
    const config = await createConfig({ extends: ['recommended'] });
    const problems = await lintFromString({ source: JSON.stringify(doc), absoluteRef: '/openapi.json', config });
    // /healthz, /readyz, /metrics and /openapi.json take no input and no credentials: they
    // have no 4xx answer to document, so that one rule does not apply to them.
    const operationsEndpoint = (pointer = '') => /^#\/paths\/~1(healthz|readyz|metrics|openapi\.json)\//.test(pointer);
    const relevant = problems.filter((p) => !(p.ruleId === 'operation-4xx-response' && operationsEndpoint(p.location[0]?.pointer)));
    expect(relevant.map((p) => `${p.severity} ${p.ruleId}: ${p.message} at ${p.location[0]?.pointer}`)).toEqual([]);
  });

  it('uses JSON Schema 2020-12 only: no nullable, no stray definitions, servers declared', () => {
    const text = JSON.stringify(doc);
    expect(text).not.toContain('"nullable"');
    expect(text).not.toContain('definitions');
    expect(text).not.toContain('#/$defs/');
    expect(doc.servers?.length).toBeGreaterThan(0);
  });

  it('gives every operation a unique operationId and the security of its auth mode', () => {
    const ids = operations().map(({ op }) => op.operationId);
    expect(ids.every((id) => typeof id === 'string' && id.length > 0)).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    for (const { path, method, op } of operations()) {
      const auth = authOf(path, method);
      const schemes = (op.security ?? []).flatMap((requirement) => Object.keys(requirement));
      const session = method === 'get' ? ['sessionCookie'] : ['sessionCookie', 'csrfToken'];
      // Routes with an organization permission also take an API key (doc/organizations.md).
      const expected = auth === 'public' ? [] : auth === 'agent' ? ['agentToken'] : op['x-permission'] ? [...session, 'apiKey'] : session;
      expect(schemes, `${method} ${path}`).toEqual(expected);
      for (const scheme of schemes) expect(doc.components.securitySchemes).toHaveProperty(scheme);
    }
  });

  it('documents the error responses each operation can give, in the error shape', () => {
    for (const { path, method, op } of operations()) {
      const auth = authOf(path, method);
      const statuses = Object.keys(op.responses);
      const where = `${method} ${path}`;
      if (path.startsWith('/api/')) expect(statuses, where).toContain('503');
      if (auth !== 'public') expect(statuses, where).toContain('401');
      if (auth !== 'public' && auth !== 'agent') expect(statuses, where).toContain('403');
      if (op.parameters?.some((p) => p.in === 'path')) expect(statuses, where).toContain('404');
      // The {orgId} of an organization mount is the guard's (a bad one is a 404), not a validated part.
      const validated = op.parameters?.filter((p) => !(p.in === 'path' && p.name === 'orgId' && op['x-permission']));
      if (op.requestBody || validated?.length) expect(statuses, where).toContain('422');
    }
    // Rate-limited routes say so because their chain holds a rate-limit middleware.
    expect(Object.keys(doc.paths['/api/agent/enroll']!.post!.responses)).toContain('429');
    expect(Object.keys(doc.paths['/api/auth/signup']!.post!.responses)).toContain('429');
    expect(Object.keys(doc.paths['/healthz']!.get!.responses)).toEqual(['200', 'default']);
    const unauthorized = doc.paths['/api/dongles']!.get!.responses['401'];
    expect(unauthorized).toEqual({ $ref: '#/components/responses/Unauthorized' });
  });

  it('is the document committed in apps/api-client (what the typed client was generated from)', () => {
    expect(doc).toEqual(JSON.parse(readFileSync(join(API_CLIENT_DIR, 'openapi.json'), 'utf8')));
  });

  it('types the agent result body as any JSON value, through a shared component', () => {
    const body = doc.paths['/api/agent/commands/{id}/result']!.post!.requestBody as { content: Record<string, { schema: { properties: Record<string, unknown> } }> };
    expect(body.content['application/json']!.schema.properties.result).toEqual({ $ref: '#/components/schemas/JsonValue' });
  });

  it('documents the firmware upload as an application/octet-stream body, not JSON', () => {
    for (const path of ['/api/firmware/images', '/api/orgs/{orgId}/firmware/images']) {
      const upload = doc.paths[path]!.post!;
      const body = upload.requestBody as { content: Record<string, { schema: unknown }> };
      expect(Object.keys(body.content)).toEqual(['application/octet-stream']);
      expect(Object.keys(upload.responses as object)).toEqual(expect.arrayContaining(['201', '413', '415']));
    }
  });
});

describe('the OpenAPI registry', () => {
  const spec = { summary: 'x', auth: 'session' as const, params: z.object({ id: z.string() }), responses: { 200: { description: 'ok' } } };

  it('derives an operationId from method and path, or takes the one the route gives', () => {
    const registry = new OpenApiRegistry();
    registry.add('get', '/api/dongles/:id/can-config', spec);
    registry.add('post', '/api/dongles/:id/can-config', { ...spec, operationId: 'applyCanConfig' });
    expect(registry.list().map((op) => op.operationId)).toEqual(['getDonglesByIdCanConfig', 'applyCanConfig']);
  });

  it('refuses two operations with one operationId', () => {
    const registry = new OpenApiRegistry();
    registry.add('get', '/api/a', { ...spec, operationId: 'same' });
    expect(() => registry.add('get', '/api/b', { ...spec, operationId: 'same' })).toThrow(/already used by GET \/api\/a/);
  });
});
