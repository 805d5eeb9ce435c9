// The OpenAPI document is generated from the same zod schemas that validate requests: every
// route registers itself here when it is mounted (see api-router.ts).
import { z } from 'zod';
import { PERMISSIONS, type Permission } from '../../features/organizations/policy.ts';

export type AuthMode = 'public' | 'session' | 'verified' | 'admin' | 'agent';

export interface ResponseSpec {
  description: string;
  schema?: z.ZodType;
}

export interface OperationSpec {
  summary: string;
  description?: string;
  tags?: string[];
  auth: AuthMode;
  /**
   * The organization permission the route needs (features/organizations/policy.ts). Such a route
   * acts in an organization (the addressed one, or the caller's personal one) and also accepts
   * an API key as `Authorization: Bearer`.
   */
  permission?: Permission;
  body?: z.ZodType;
  query?: z.ZodType;
  params?: z.ZodType;
  headers?: Record<string, { description: string; required?: boolean }>;
  responses: Record<number, ResponseSpec>;
}

interface RegisteredOperation extends OperationSpec {
  method: string;
  path: string;
}

const errorSchema = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.array(z.object({ path: z.string().optional(), message: z.string(), code: z.string().optional() })).optional(),
    requestId: z.string(),
  }),
});

const toJsonSchema = (schema: z.ZodType, io: 'input' | 'output') =>
  z.toJSONSchema(schema, { io, target: 'openapi-3.0', unrepresentable: 'any' }) as Record<string, unknown>;

/** "/api/dongles/:id/commands" → "/api/dongles/{id}/commands" */
const openApiPath = (path: string) => path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

function parameters(schema: z.ZodType | undefined, location: 'path' | 'query') {
  if (!schema) return [];
  const json = toJsonSchema(schema, 'input') as { properties?: Record<string, unknown>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, propertySchema]) => ({
    name,
    in: location,
    required: location === 'path' || (json.required ?? []).includes(name),
    schema: propertySchema,
  }));
}

const security: Record<AuthMode, unknown[] | undefined> = {
  public: [],
  session: [{ sessionCookie: [], csrfToken: [] }],
  verified: [{ sessionCookie: [], csrfToken: [] }],
  admin: [{ sessionCookie: [], csrfToken: [] }],
  agent: [{ agentToken: [] }],
};

export class OpenApiRegistry {
  private readonly operations: RegisteredOperation[] = [];

  add(method: string, path: string, spec: OperationSpec): void {
    this.operations.push({ ...spec, method, path });
  }

  list(): ReadonlyArray<{ method: string; path: string; auth: AuthMode; permission?: Permission; params?: z.ZodType; body?: z.ZodType }> {
    return this.operations;
  }

  document(info: { title: string; version: string }): Record<string, unknown> {
    const paths: Record<string, Record<string, unknown>> = {};
    for (const op of this.operations) {
      const headerParams = Object.entries(op.headers ?? {}).map(([name, h]) => ({ name, in: 'header', required: h.required ?? false, description: h.description, schema: { type: 'string' } }));
      const responses: Record<string, unknown> = {};
      for (const [status, response] of Object.entries(op.responses)) {
        responses[status] = response.schema
          ? { description: response.description, content: { 'application/json': { schema: toJsonSchema(response.schema, 'output') } } }
          : { description: response.description };
      }
      responses.default = { description: 'Error', content: { 'application/json': { schema: toJsonSchema(errorSchema, 'output') } } };
      const pathParams = parameters(op.params, 'path');
      // Path segments the route's own schema does not declare (the :orgId of an organization prefix).
      for (const [, name] of op.path.matchAll(/:([A-Za-z0-9_]+)/g)) {
        if (!pathParams.some((p) => p.name === name)) pathParams.unshift({ name: name!, in: 'path', required: true, schema: { type: 'string', format: 'uuid' } });
      }
      (paths[openApiPath(op.path)] ??= {})[op.method] = {
        summary: op.summary,
        ...(op.description ? { description: op.description } : {}),
        tags: op.tags ?? [],
        security: op.permission ? [...security[op.auth]!, { apiKey: [] }] : security[op.auth],
        ...(op.permission ? { 'x-permission': op.permission, 'x-minimum-role': PERMISSIONS[op.permission] } : {}),
        parameters: [...pathParams, ...parameters(op.query, 'query'), ...headerParams],
        ...(op.body ? { requestBody: { required: true, content: { 'application/json': { schema: toJsonSchema(op.body, 'input') } } } } : {}),
        responses,
      };
    }
    return {
      openapi: '3.0.3',
      info,
      paths,
      components: {
        securitySchemes: {
          sessionCookie: { type: 'apiKey', in: 'cookie', name: 'fleet.sid' },
          csrfToken: { type: 'apiKey', in: 'header', name: 'X-CSRF-Token' },
          agentToken: { type: 'http', scheme: 'bearer' },
          apiKey: { type: 'http', scheme: 'bearer', description: 'An organization API key (fk_…), on routes with an x-permission; no CSRF token.' },
        },
      },
    };
  }
}
