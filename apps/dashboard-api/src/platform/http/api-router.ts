// A thin layer over express.Router that makes each route read like a sentence:
//
//   api.post('/claim', { summary, auth: 'verified', body: claimBody, responses }, handler)
//
// From the spec it mounts, in order: the guards of the auth mode (who may call), zod
// validation of params, query and body (422 with every issue; parsed values on res.locals,
// never written back onto req), then the handlers. The same spec feeds /openapi.json.
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import type { z } from 'zod';
import { unprocessable } from '../errors.ts';
import { RATE_LIMIT_RULE } from '../rate-limit.ts';
import type { AuthMode, OperationSpec, OpenApiRegistry } from './openapi.ts';
import { unstorableInput } from './storable-input.ts';

type Infer<T> = T extends z.ZodType ? z.output<T> : undefined;

export interface ValidatedLocals<Spec extends OperationSpec> {
  body: Infer<Spec['body']>;
  query: Infer<Spec['query']>;
  params: Infer<Spec['params']>;
}

export type Handler<Spec extends OperationSpec> = (
  req: Request,
  res: Response<unknown, ValidatedLocals<Spec> & Record<string, unknown>>,
  next: NextFunction,
) => unknown;

/**
 * Guards per auth mode, supplied by the auth feature when the app is composed; `permission`
 * gives the chain of a route that names an organization permission (API key or session, then
 * the organization check, see features/organizations/org-scope.ts).
 */
export type Guards = Record<AuthMode, RequestHandler[]> & {
  permission?: (auth: AuthMode, permission: NonNullable<OperationSpec['permission']>) => RequestHandler[];
};

export function zodIssuesToDetails(error: z.ZodError) {
  return error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message, code: issue.code }));
}

/** Params of the mount path (the :orgId of /orgs/:orgId/…) are the guards' business, not the route schema's. */
function ownParams(params: Record<string, string>, mountParams: string[]) {
  if (mountParams.length === 0) return params;
  return Object.fromEntries(Object.entries(params).filter(([name]) => !mountParams.includes(name)));
}

function validate(spec: OperationSpec, mountParams: string[]): RequestHandler {
  return (req, res, next) => {
    const parts = [
      ['params', spec.params, ownParams(req.params as Record<string, string>, mountParams)],
      ['query', spec.query, req.query],
      ['body', spec.body, req.body ?? {}],
    ] as const;
    // The edge rule first (platform/http/storable-input.ts): unstorable text or a too-deep body
    // never reaches a schema, a query or a jsonb column.
    const unstorable = parts.flatMap(([name, , value]) => unstorableInput(name, value));
    if (unstorable.length > 0) return next(unprocessable('The request is not valid.', unstorable));
    const details = [];
    for (const [name, schema, value] of parts) {
      if (!schema) continue;
      const result = schema.safeParse(value);
      if (result.success) res.locals[name] = result.data;
      else details.push(...zodIssuesToDetails(result.error).map((d) => ({ ...d, path: d.path ? `${name}.${d.path}` : name })));
    }
    if (details.length > 0) return next(unprocessable('The request is not valid.', details));
    next();
  };
}

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

export class ApiRouter {
  // mergeParams: a router mounted under /orgs/:orgId sees the organization id.
  readonly router = express.Router({ mergeParams: true });

  constructor(
    private readonly registry: OpenApiRegistry,
    private readonly guards: Guards,
    /** The prefix this router is mounted under, for the OpenAPI paths. */
    private readonly mountPath: string,
  ) {}

  get<S extends OperationSpec>(path: string, spec: S, ...handlers: Handler<S>[]) { return this.add('get', path, spec, handlers); }
  post<S extends OperationSpec>(path: string, spec: S, ...handlers: Handler<S>[]) { return this.add('post', path, spec, handlers); }
  put<S extends OperationSpec>(path: string, spec: S, ...handlers: Handler<S>[]) { return this.add('put', path, spec, handlers); }
  patch<S extends OperationSpec>(path: string, spec: S, ...handlers: Handler<S>[]) { return this.add('patch', path, spec, handlers); }
  delete<S extends OperationSpec>(path: string, spec: S, ...handlers: Handler<S>[]) { return this.add('delete', path, spec, handlers); }

  private add(method: Method, path: string, spec: OperationSpec, handlers: Handler<OperationSpec>[]): this {
    // A rate-limit middleware in the chain (see rate-limit.ts) means the route can answer 429;
    // so does a route with a permission (API keys are rate limited per key).
    const rateLimited = handlers.some((handler) => RATE_LIMIT_RULE in handler) || spec.permission !== undefined;
    this.registry.add(method, `${this.mountPath}${path === '/' ? '' : path}`, spec, { rateLimited });
    const guards = spec.permission && this.guards.permission ? this.guards.permission(spec.auth, spec.permission) : this.guards[spec.auth];
    const mountParams = [...this.mountPath.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1]!);
    this.router[method](path, ...guards, validate(spec, mountParams), ...(handlers as unknown as RequestHandler[]));
    return this;
  }
}

/**
 * The router of one audience (src/routes/*.ts): `mount(path)` gives the ApiRouter for one path
 * under it, mounted in call order, its OpenAPI paths prefixed with `/api${base}`.
 */
export function audienceRouter(registry: OpenApiRegistry, guards: Guards, base: string) {
  const router = express.Router();
  const mount = (path: string) => {
    const api = new ApiRouter(registry, guards, `/api${base}${path}`);
    router.use(path || '/', api.router);
    return api;
  };
  return { router, mount };
}
