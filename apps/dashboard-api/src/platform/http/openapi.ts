// The OpenAPI 3.1 document is generated from the same zod schemas that validate requests: every
// route registers itself here when it is mounted (see api-router.ts). What a route spec does not
// say is derived, so no operation can lack it: the operationId (from method and path), the
// security (from the auth mode) and the error responses (from the auth mode, the parts that are
// validated and whether the chain has a rate limit). apps/api-client is generated from this
// document; test/contract/openapi.test.ts validates it with a real OpenAPI validator.
import { z } from 'zod';

export type AuthMode = 'public' | 'session' | 'verified' | 'admin' | 'agent';

export interface ResponseSpec {
  description: string;
  schema?: z.ZodType;
  /** Default application/json; a text type is documented as a string. */
  contentType?: string;
}

export interface OperationSpec {
  /** Derived from method and path when absent (`GET /api/dongles/:id` → `getDonglesById`). */
  operationId?: string;
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
  /** A body that is not JSON (the firmware upload): its media type, documented as binary. */
  rawBody?: { contentType: string; description: string };
  query?: z.ZodType;
  params?: z.ZodType;
  headers?: Record<string, { description: string; required?: boolean }>;
  /** Success responses, and error responses worth a route-specific description (the error body is added). */
  responses: Record<number, ResponseSpec>;
}

interface RegisteredOperation extends OperationSpec {
  method: string;
  path: string;
  operationId: string;
  rateLimited: boolean;
}

const errorSchema = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.array(z.object({ path: z.string().optional(), message: z.string(), code: z.string().optional() })).optional(),
    requestId: z.string(),
  }),
});

/** The generic meaning of each error status; a route's own description replaces it. */
const ERROR_RESPONSES: Record<number, { name: string; description: string }> = {
  400: { name: 'BadRequest', description: 'Malformed JSON body' },
  401: { name: 'Unauthorized', description: 'unauthenticated: no valid session or agent token' },
  403: { name: 'Forbidden', description: 'Not allowed: csrf_failed, cross_site_request, account_suspended, email_unverified or a missing role' },
  404: { name: 'NotFound', description: 'not_found: no such resource, or it belongs to someone else' },
  409: { name: 'Conflict', description: 'The resource is not in a state that allows this' },
  413: { name: 'PayloadTooLarge', description: 'payload_too_large: the body is over 100 kB' },
  415: { name: 'UnsupportedMediaType', description: 'unsupported_media_type: bodies must be application/json' },
  422: { name: 'ValidationFailed', description: 'validation_failed: every invalid field is listed in details' },
  429: { name: 'RateLimited', description: 'rate_limited, with Retry-After' },
  503: { name: 'ServiceUnavailable', description: 'database_unavailable, with Retry-After' },
};

const STATE_CHANGING = new Set(['post', 'put', 'patch', 'delete']);

/** "/api/dongles/:id/commands" → "/api/dongles/{id}/commands" */
const openApiPath = (path: string) => path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

const capitalize = (word: string) => word.charAt(0).toUpperCase() + word.slice(1);

/** `POST /api/agent/commands/:id/result` → `postAgentCommandsByIdResult`. */
export function deriveOperationId(method: string, path: string): string {
  const words = path
    .replace(/^\/api(?=\/|$)/, '')
    .split('/')
    .filter(Boolean)
    .map((segment) => (segment.startsWith(':') ? `By${capitalize(segment.slice(1))}` : segment.split(/[^A-Za-z0-9]+/).filter(Boolean).map(capitalize).join('')));
  return method.toLowerCase() + words.join('');
}

/**
 * Turns zod schemas into JSON Schema 2020-12 (the dialect of OpenAPI 3.1). Definitions zod puts
 * under a schema's own `$defs` (recursive types such as z.json()) would be unreachable from
 * inside the document, so they move to components.schemas, one entry per distinct content.
 */
class SchemaCollector {
  private readonly byContent = new Map<string, string>();
  /** z.json()'s recursive definition, to give it a readable name. */
  private readonly jsonValueContent = JSON.stringify(Object.values((z.toJSONSchema(z.object({ value: z.json() })) as { $defs?: object }).$defs ?? {})[0] ?? null);
  readonly components: Record<string, unknown> = { Error: this.convert(errorSchema, 'output') };

  convert(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
    const { $schema: _dialect, $defs, ...json } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<string, unknown> & { $defs?: Record<string, unknown> };
    const renames = new Map<string, string>();
    for (const [name, definition] of Object.entries($defs ?? {})) {
      const content = JSON.stringify(definition);
      let target = this.byContent.get(content);
      if (!target) {
        target = content === this.jsonValueContent ? 'JsonValue' : name.startsWith('__') ? `Schema${this.byContent.size + 1}` : name;
        this.byContent.set(content, target);
      }
      renames.set(name, target);
    }
    const rewrite = (value: unknown): unknown => {
      if (Array.isArray(value)) return value.map(rewrite);
      if (!value || typeof value !== 'object') return value;
      // z.unknown().nullable() gives anyOf [{}, {type: null}]: that is just "any value".
      const { anyOf, ...rest } = value as { anyOf?: unknown[] };
      if (anyOf?.some((member) => member && typeof member === 'object' && Object.keys(member).length === 0)) return rewrite(rest);
      return Object.fromEntries(
        Object.entries(value).map(([key, inner]) =>
          key === '$ref' && typeof inner === 'string' && inner.startsWith('#/$defs/') ? [key, `#/components/schemas/${renames.get(inner.slice(8)) ?? inner.slice(8)}`] : [key, rewrite(inner)],
        ),
      );
    };
    for (const [name, definition] of Object.entries($defs ?? {})) this.components[renames.get(name)!] ??= rewrite(definition);
    return rewrite(json) as Record<string, unknown>;
  }

  parameters(schema: z.ZodType | undefined, location: 'path' | 'query') {
    if (!schema) return [];
    const json = this.convert(schema, 'input') as { properties?: Record<string, { description?: string }>; required?: string[] };
    return Object.entries(json.properties ?? {}).map(([name, propertySchema]) => ({
      name,
      in: location,
      required: location === 'path' || (json.required ?? []).includes(name),
      ...(propertySchema.description ? { description: propertySchema.description } : {}),
      schema: propertySchema,
    }));
  }
}

function security(op: RegisteredOperation): Record<string, string[]>[] {
  switch (op.auth) {
    case 'public':
      return [];
    case 'agent':
      return [{ agentToken: [] }];
    default:
      // The CSRF header is checked on state changes only.
      return [STATE_CHANGING.has(op.method) ? { sessionCookie: [], csrfToken: [] } : { sessionCookie: [] }];
  }
}

/** The error statuses a route can answer, from what its chain does. */
function errorStatuses(op: RegisteredOperation): number[] {
  // Every /api route reads the database (session, token, rate limit or its own work).
  const statuses = new Set<number>(op.path.startsWith('/api/') ? [503] : []);
  if (op.auth !== 'public') statuses.add(401);
  // Session modes: suspended, CSRF, unverified, role. Any state change: the cross-site check.
  if (op.auth !== 'public' && op.auth !== 'agent') statuses.add(403);
  if (STATE_CHANGING.has(op.method)) statuses.add(403);
  // A path id that is not there; an organization the caller is not a member of.
  if (op.params || op.path.includes(':')) statuses.add(404);
  if (op.body || op.query || op.params) statuses.add(422);
  if (op.body) [400, 413, 415].forEach((status) => statuses.add(status));
  if (op.rawBody) [413, 415].forEach((status) => statuses.add(status));
  if (op.rateLimited) statuses.add(429);
  for (const status of Object.keys(op.responses).map(Number)) if (status >= 400) statuses.add(status);
  return [...statuses].sort((a, b) => a - b);
}

/**
 * The organization permissions a route may name. features/organizations/policy.ts declares its
 * matrix into this interface (declaration merging), so an unknown permission does not compile
 * and platform/ imports no feature.
 */
export interface PermissionRegistry {}
export type Permission = Extract<keyof PermissionRegistry, string>;

export class OpenApiRegistry {
  private readonly operations: RegisteredOperation[] = [];

  /** `minimumRole` names the least role holding a permission (`x-minimum-role`); the app passes the policy's. */
  constructor(private readonly options: { minimumRole?: (permission: Permission) => string } = {}) {}

  add(method: string, path: string, spec: OperationSpec, options: { rateLimited?: boolean } = {}): void {
    const operationId = spec.operationId ?? deriveOperationId(method, path);
    const clash = this.operations.find((op) => op.operationId === operationId);
    if (clash) throw new Error(`operationId ${operationId} of ${method.toUpperCase()} ${path} is already used by ${clash.method.toUpperCase()} ${clash.path}`);
    this.operations.push({ ...spec, method, path, operationId, rateLimited: options.rateLimited ?? false });
  }

  list(): ReadonlyArray<{ method: string; path: string; auth: AuthMode; operationId: string; permission?: Permission }> {
    return this.operations;
  }

  /** `tags` describes each tag the routes use. */
  document(info: { title: string; version: string; description?: string }, tags: Record<string, string>): Record<string, unknown> {
    const schemas = new SchemaCollector();
    const errorContent = { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } };
    const paths: Record<string, Record<string, unknown>> = {};
    for (const op of this.operations) {
      const headerParams = Object.entries(op.headers ?? {}).map(([name, h]) => ({ name, in: 'header', required: h.required ?? false, description: h.description, schema: { type: 'string' } }));
      const responses: Record<string, unknown> = {};
      for (const [status, response] of Object.entries(op.responses)) {
        if (Number(status) >= 400) continue;
        const type = response.contentType ?? 'application/json';
        if (type.startsWith('text/')) responses[status] = { description: response.description, content: { [type]: { schema: { type: 'string' } } } };
        else if (response.schema) responses[status] = { description: response.description, content: { [type]: { schema: schemas.convert(response.schema, 'output') } } };
        else responses[status] = { description: response.description };
      }
      for (const status of errorStatuses(op)) {
        const own = op.responses[status]?.description;
        responses[status] = own ? { description: own, content: errorContent } : { $ref: `#/components/responses/${ERROR_RESPONSES[status]?.name ?? `Error${status}`}` };
      }
      responses.default = { $ref: '#/components/responses/UnexpectedError' };
      const pathParams: Array<Record<string, unknown> & { name: string }> = schemas.parameters(op.params, 'path');
      // Path segments the route's own schema does not declare (the :orgId of an organization prefix).
      for (const [, name] of op.path.matchAll(/:([A-Za-z0-9_]+)/g)) {
        if (!pathParams.some((p) => p.name === name)) pathParams.unshift({ name: name!, in: 'path', required: true, description: 'The organization', schema: { type: 'string', format: 'uuid' } });
      }
      (paths[openApiPath(op.path)] ??= {})[op.method] = {
        operationId: op.operationId,
        summary: op.summary,
        ...(op.description ? { description: op.description } : {}),
        tags: op.tags ?? [],
        // A route with an organization permission also takes an API key, without the CSRF header.
        security: op.permission ? [...security(op), { apiKey: [] }] : security(op),
        ...(op.permission ? { 'x-permission': op.permission, ...(this.options.minimumRole ? { 'x-minimum-role': this.options.minimumRole(op.permission) } : {}) } : {}),
        parameters: [...pathParams, ...schemas.parameters(op.query, 'query'), ...headerParams],
        ...(op.body ? { requestBody: { required: true, content: { 'application/json': { schema: schemas.convert(op.body, 'input') } } } } : {}),
        ...(op.rawBody ? { requestBody: { required: true, description: op.rawBody.description, content: { [op.rawBody.contentType]: { schema: { type: 'string', contentMediaType: op.rawBody.contentType } } } } } : {}),
        responses,
      };
    }
    const used = JSON.stringify(paths);
    const errorResponses = Object.fromEntries(
      Object.values(ERROR_RESPONSES)
        .filter(({ name }) => used.includes(`"#/components/responses/${name}"`))
        .map(({ name, description }) => [name, { description, content: errorContent }]),
    );
    // A tag missing from `tags` is listed bare; the contract test's lint then names it.
    const tagList = [...new Set(this.operations.flatMap((op) => op.tags ?? []))].sort().map((name) => (tags[name] ? { name, description: tags[name] } : { name }));
    return {
      openapi: '3.1.0',
      info: { ...info, license: { name: 'Proprietary', identifier: 'LicenseRef-Proprietary' } },
      // Relative: the API is served from the same origin as this document.
      servers: [{ url: '/', description: 'The server that serves this document' }],
      tags: tagList,
      paths,
      components: {
        schemas: schemas.components,
        responses: { ...errorResponses, UnexpectedError: { description: 'internal_error: unexpected; the requestId is in the server log', content: errorContent } },
        securitySchemes: {
          sessionCookie: { type: 'apiKey', in: 'cookie', name: 'fleet.sid', description: 'The dashboard session (POST /api/auth/login sets it)' },
          csrfToken: { type: 'apiKey', in: 'header', name: 'X-CSRF-Token', description: 'The session’s CSRF token (from login or GET /api/auth/session); required on state changes' },
          agentToken: { type: 'http', scheme: 'bearer', description: 'A desktop agent’s token (from POST /api/agent/enroll)' },
          apiKey: { type: 'http', scheme: 'bearer', description: 'An organization API key (fk_…, POST /api/orgs/{orgId}/api-keys) on routes with an x-permission; no CSRF header' },
        },
      },
    };
  }
}
