// Every call the dashboard makes to the API, behind one module, on the generated client
// (@fleet/api-client: openapi-fetch over the types generated from /openapi.json). The types
// below are read off the generated `paths`, so a route or schema change that breaks a page
// breaks `npm run typecheck` first.
//
// Same origin as the API: the session cookie rides along by itself; state-changing requests
// carry the CSRF token from the session. A 401 on anything but the auth endpoints means the
// session ended (expired, revoked, suspended): the registered handler sends the user to log in.
import { createApiClient, type paths } from '@fleet/api-client';

// ---------------------------------------------------------------- types from the generated schema

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
type Op<P extends keyof paths, M extends Method> = NonNullable<paths[P][M]>;
type JsonOf<R> = R extends { content: { 'application/json': infer T } } ? T : never;
/** The JSON body of an operation's 2xx answer. */
type Ok<P extends keyof paths, M extends Method> = Op<P, M> extends { responses: infer R }
  ? JsonOf<R[Extract<keyof R, 200 | 201 | 202>]>
  : never;
type Body<P extends keyof paths, M extends Method> = Op<P, M> extends { requestBody?: { content: { 'application/json': infer B } } } ? B : never;
type Query<P extends keyof paths, M extends Method> = Op<P, M> extends { parameters: { query?: infer Q } } ? NonNullable<Q> : never;

export type Session = Ok<'/api/auth/session', 'get'>;
export type User = Session['user'];
export type Role = User['role'];
export type UserStatus = User['status'];
export type Page<T> = { items: T[]; nextCursor: string | null };
export type Dongle = Ok<'/api/dongles/{id}', 'get'>;
export type DongleState = Dongle['state'];
export type DiscoveredDongle = Ok<'/api/dongles/discovered', 'get'>['items'][number];
export type Agent = Ok<'/api/agents/{id}', 'get'>;
export type EnrollmentCode = Ok<'/api/agents/enrollment-codes', 'post'>;
export type Group = Ok<'/api/groups/{id}', 'get'>;
export type GroupMode = Group['mode'];
export type CanConfig = Ok<'/api/dongles/{id}/can-config', 'get'> & { applyCommandId?: string };
export type CanConfigInput = Body<'/api/dongles/{id}/can-config', 'put'>;
export type CanMode = CanConfig['mode'];
export type Command = Ok<'/api/commands/{id}', 'get'>;
export type CommandType = Command['type'];
export type CommandStatus = Command['status'];
export type NewCommand = Body<'/api/dongles/{id}/commands', 'post'>;
export type MySession = Ok<'/api/me/sessions', 'get'>['items'][number];
export type AuditEntry = Ok<'/api/admin/audit-logs', 'get'>['items'][number];
export type AuditFilters = Omit<Query<'/api/admin/audit-logs', 'get'>, 'cursor' | 'limit'>;
export interface ErrorDetail {
  path?: string;
  message: string;
}

// ---------------------------------------------------------------- errors, CSRF, session end

/** An API refusal, with what a person needs: a sentence, the field messages and the request id. */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly requestId: string | null,
    readonly details: ErrorDetail[] = [],
  ) {
    super(message);
  }
  /** Field messages keyed by the field name (the `body.` prefix dropped). */
  fieldErrors(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const d of this.details) if (d.path) out[d.path.replace(/^body\./, '')] ??= d.message;
    return out;
  }
}

let csrfToken: string | null = null;
let onUnauthorized: (() => void) | null = null;

export function setCsrfToken(token: string | null) {
  csrfToken = token;
}
/** Called on a 401 outside the auth endpoints (the session ended). */
export function setUnauthorizedHandler(handler: (() => void) | null) {
  onUnauthorized = handler;
}

const client = createApiClient('', { csrfToken: () => csrfToken ?? undefined, credentials: 'same-origin' });

/** The data of a 2xx answer; anything else becomes an ApiError a page can show. */
async function run<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  let result: { data?: T; error?: unknown; response: Response };
  try {
    result = await call;
  } catch {
    throw new ApiError(0, 'network_error', 'The server could not be reached. Check your connection; the page retries on its own.', null);
  }
  const { data, error, response } = result;
  if (response.ok) return data as T;
  const body = (error as { error?: { code?: string; message?: string; details?: ErrorDetail[]; requestId?: string } } | undefined)?.error;
  const apiError = new ApiError(
    response.status,
    body?.code ?? 'http_error',
    body?.message ?? `The server answered ${response.status} ${response.statusText}.`,
    body?.requestId ?? response.headers.get('X-Request-Id'),
    body?.details ?? [],
  );
  if (response.status === 401 && !new URL(response.url, window.location.href).pathname.startsWith('/api/auth/')) onUnauthorized?.();
  throw apiError;
}

export function withQuery(path: string, query: Record<string, string | number | undefined | null> = {}): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') params.set(k, String(v));
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

const id = (value: string) => ({ params: { path: { id: value } } });

// ---------------------------------------------------------------- the calls

export const api = {
  // Accounts
  session: () => run(client.GET('/api/auth/session')),
  signup: (email: string, password: string) => run(client.POST('/api/auth/signup', { body: { email, password } })),
  verifyEmail: (token: string) => run(client.POST('/api/auth/verify-email', { body: { token } })),
  login: (email: string, password: string) => run(client.POST('/api/auth/login', { body: { email, password } })),
  logout: () => run(client.POST('/api/auth/logout')),
  requestPasswordReset: (email: string) => run(client.POST('/api/auth/password-reset/request', { body: { email } })),
  confirmPasswordReset: (token: string, password: string) => run(client.POST('/api/auth/password-reset/confirm', { body: { token, password } })),
  changePassword: (currentPassword: string, newPassword: string) => run(client.POST('/api/me/password', { body: { currentPassword, newPassword } })),
  mySessions: () => run(client.GET('/api/me/sessions', { params: { query: { limit: 200 } } })),
  endSession: (sessionId: string) => run(client.DELETE('/api/me/sessions/{id}', id(sessionId))),
  endOtherSessions: () => run(client.POST('/api/me/sessions/revoke-others')),

  // Fleet
  dongles: (cursor?: string) => run(client.GET('/api/dongles', { params: { query: { limit: 200, ...(cursor ? { cursor } : {}) } } })),
  dongle: (dongleId: string) => run(client.GET('/api/dongles/{id}', id(dongleId))),
  discovered: () => run(client.GET('/api/dongles/discovered')),
  claim: (deviceId: string) => run(client.POST('/api/dongles/claim', { body: { deviceId } })),
  renameDongle: (dongleId: string, name: string | null) => run(client.PATCH('/api/dongles/{id}', { ...id(dongleId), body: { name } })),
  releaseDongle: (dongleId: string) => run(client.POST('/api/dongles/{id}/release', id(dongleId))),
  canConfig: (dongleId: string) => run(client.GET('/api/dongles/{id}/can-config', id(dongleId))) as Promise<CanConfig>,
  putCanConfig: (dongleId: string, version: number, input: CanConfigInput) =>
    run(client.PUT('/api/dongles/{id}/can-config', { params: { path: { id: dongleId }, header: { 'If-Match': `"${version}"` } }, body: input })) as Promise<CanConfig>,
  agents: () => run(client.GET('/api/agents', { params: { query: { limit: 200 } } })),
  createEnrollmentCode: () => run(client.POST('/api/agents/enrollment-codes')),
  renameAgent: (agentId: string, name: string) => run(client.PATCH('/api/agents/{id}', { ...id(agentId), body: { name } })),
  deleteAgent: (agentId: string) => run(client.DELETE('/api/agents/{id}', id(agentId))),
  groups: () => run(client.GET('/api/groups', { params: { query: { limit: 200 } } })),
  createGroup: (input: Body<'/api/groups', 'post'>) => run(client.POST('/api/groups', { body: input })),
  updateGroup: (groupId: string, input: Body<'/api/groups/{id}', 'patch'>) => run(client.PATCH('/api/groups/{id}', { ...id(groupId), body: input })),
  deleteGroup: (groupId: string) => run(client.DELETE('/api/groups/{id}', id(groupId))),
  commands: (dongleId: string) => run(client.GET('/api/dongles/{id}/commands', { params: { path: { id: dongleId }, query: { limit: 50 } } })),
  sendCommand: (dongleId: string, command: NewCommand, idempotencyKey: string) =>
    run(client.POST('/api/dongles/{id}/commands', { params: { path: { id: dongleId }, header: { 'Idempotency-Key': idempotencyKey } }, body: command })),
  cancelCommand: (commandId: string) => run(client.POST('/api/commands/{id}/cancel', id(commandId))),

  // Administration
  users: (query: { email?: string; status?: UserStatus; role?: Role; cursor?: string }) => run(client.GET('/api/admin/users', { params: { query: { limit: 50, ...query } } })),
  updateUser: (userId: string, change: Body<'/api/admin/users/{id}', 'patch'>) => run(client.PATCH('/api/admin/users/{id}', { ...id(userId), body: change })),
  auditLog: (filters: AuditFilters, cursor?: string) => run(client.GET('/api/admin/audit-logs', { params: { query: { limit: 50, ...filters, ...(cursor ? { cursor } : {}) } } })),
  /** A plain link (a download): same origin, the session cookie is all it needs. */
  auditExportUrl: (filters: AuditFilters, format: 'csv' | 'ndjson') => withQuery('/api/admin/audit-logs/export', { ...filters, format }),
  forceRelease: (dongleId: string) => run(client.POST('/api/admin/dongles/{id}/force-release', id(dongleId))),
};
