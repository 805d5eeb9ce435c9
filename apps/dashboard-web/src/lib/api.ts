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
type O = '/api/orgs/{orgId}';
export type Org = Ok<'/api/orgs', 'get'>['items'][number];
export type OrgRole = Org['role'];
export type Member = Ok<`${O}/members`, 'get'>['items'][number];
export type Invitation = Ok<`${O}/invitations`, 'get'>['items'][number];
export type InviteRole = Invitation['role'];
export type ApiKey = Ok<`${O}/api-keys`, 'get'>['items'][number];
export type NewApiKey = Ok<`${O}/api-keys`, 'post'>;
export type ApiKeyScope = ApiKey['scope'];
export type Dongle = Ok<`${O}/dongles/{id}`, 'get'>;
export type DongleState = Dongle['state'];
export type DiscoveredDongle = Ok<`${O}/dongles/discovered`, 'get'>['items'][number];
export type Agent = Ok<`${O}/agents/{id}`, 'get'>;
export type EnrollmentCode = Ok<`${O}/agents/enrollment-codes`, 'post'>;
export type Group = Ok<`${O}/groups/{id}`, 'get'>;
export type GroupMode = Group['mode'];
export type CanConfig = Ok<`${O}/dongles/{id}/can-config`, 'get'> & { applyCommandId?: string };
export type CanConfigInput = Body<`${O}/dongles/{id}/can-config`, 'put'>;
export type CanMode = CanConfig['mode'];
export type Command = Ok<`${O}/commands/{id}`, 'get'>;
export type CommandType = Command['type'];
export type CommandStatus = Command['status'];
export type NewCommand = Body<`${O}/dongles/{id}/commands`, 'post'>;
export type Job = Ok<`${O}/jobs/{id}`, 'get'>;
export type JobStatus = Job['status'];
export type NewJob = Body<`${O}/jobs`, 'post'>;
export type JobExecution = Ok<`${O}/jobs/{id}/executions`, 'get'>['items'][number];
export type ExecutionStatus = JobExecution['status'];
export type FirmwareImage = Ok<`${O}/firmware/images`, 'get'>['items'][number];
export type FirmwareMeta = Query<`${O}/firmware/images`, 'post'>;
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
/** Path parameters of an organization route: the organization, and the item's id when there is one. */
const at = (orgId: string, itemId?: string) => ({ params: { path: { orgId, ...(itemId === undefined ? {} : { id: itemId }) } } }) as { params: { path: { orgId: string; id: string } } };

// ---------------------------------------------------------------- the calls

// Every fleet call names the organization (`/api/orgs/{orgId}/…`): the switcher's choice, never
// the unscoped v0.7 paths (those act in the personal organization only).
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

  // Organizations, members, invitations, API keys
  orgs: () => run(client.GET('/api/orgs')),
  createOrg: (name: string) => run(client.POST('/api/orgs', { body: { name } })),
  members: (orgId: string) => run(client.GET('/api/orgs/{orgId}/members', at(orgId))),
  changeRole: (orgId: string, userId: string, role: OrgRole) => run(client.PATCH('/api/orgs/{orgId}/members/{userId}', { params: { path: { orgId, userId } }, body: { role } })),
  removeMember: (orgId: string, userId: string) => run(client.DELETE('/api/orgs/{orgId}/members/{userId}', { params: { path: { orgId, userId } } })),
  leave: (orgId: string) => run(client.POST('/api/orgs/{orgId}/leave', at(orgId))),
  invitations: (orgId: string) => run(client.GET('/api/orgs/{orgId}/invitations', at(orgId))),
  invite: (orgId: string, email: string, role: InviteRole) => run(client.POST('/api/orgs/{orgId}/invitations', { ...at(orgId), body: { email, role } })),
  revokeInvitation: (orgId: string, invitationId: string) => run(client.DELETE('/api/orgs/{orgId}/invitations/{invitationId}', { params: { path: { orgId, invitationId } } })),
  resendInvitation: (orgId: string, invitationId: string) => run(client.POST('/api/orgs/{orgId}/invitations/{invitationId}/resend', { params: { path: { orgId, invitationId } } })),
  acceptInvitation: (token: string) => run(client.POST('/api/invitations/accept', { body: { token } })),
  apiKeys: (orgId: string) => run(client.GET('/api/orgs/{orgId}/api-keys', at(orgId))),
  createApiKey: (orgId: string, input: Body<`${O}/api-keys`, 'post'>) => run(client.POST('/api/orgs/{orgId}/api-keys', { ...at(orgId), body: input })),
  revokeApiKey: (orgId: string, keyId: string) => run(client.DELETE('/api/orgs/{orgId}/api-keys/{keyId}', { params: { path: { orgId, keyId } } })),

  // Fleet
  dongles: (orgId: string, query: { cursor?: string; selector?: string } = {}) =>
    run(client.GET('/api/orgs/{orgId}/dongles', { params: { path: { orgId }, query: { limit: 200, ...(query.cursor ? { cursor: query.cursor } : {}), ...(query.selector ? { selector: query.selector } : {}) } } })),
  dongle: (orgId: string, dongleId: string) => run(client.GET('/api/orgs/{orgId}/dongles/{id}', at(orgId, dongleId))),
  discovered: (orgId: string) => run(client.GET('/api/orgs/{orgId}/dongles/discovered', at(orgId))),
  claim: (orgId: string, deviceId: string) => run(client.POST('/api/orgs/{orgId}/dongles/claim', { ...at(orgId), body: { deviceId } })),
  renameDongle: (orgId: string, dongleId: string, name: string | null) => run(client.PATCH('/api/orgs/{orgId}/dongles/{id}', { ...at(orgId, dongleId), body: { name } })),
  releaseDongle: (orgId: string, dongleId: string) => run(client.POST('/api/orgs/{orgId}/dongles/{id}/release', at(orgId, dongleId))),
  setTag: (orgId: string, dongleId: string, key: string, value: string) =>
    run(client.PUT('/api/orgs/{orgId}/dongles/{id}/tags/{key}', { params: { path: { orgId, id: dongleId, key } }, body: { value } })),
  removeTag: (orgId: string, dongleId: string, key: string) => run(client.DELETE('/api/orgs/{orgId}/dongles/{id}/tags/{key}', { params: { path: { orgId, id: dongleId, key } } })),
  canConfig: (orgId: string, dongleId: string) => run(client.GET('/api/orgs/{orgId}/dongles/{id}/can-config', at(orgId, dongleId))) as Promise<CanConfig>,
  putCanConfig: (orgId: string, dongleId: string, version: number, input: CanConfigInput) =>
    run(client.PUT('/api/orgs/{orgId}/dongles/{id}/can-config', { params: { path: { orgId, id: dongleId }, header: { 'If-Match': `"${version}"` } }, body: input })) as Promise<CanConfig>,
  agents: (orgId: string) => run(client.GET('/api/orgs/{orgId}/agents', { params: { path: { orgId }, query: { limit: 200 } } })),
  createEnrollmentCode: (orgId: string) => run(client.POST('/api/orgs/{orgId}/agents/enrollment-codes', at(orgId))),
  renameAgent: (orgId: string, agentId: string, name: string) => run(client.PATCH('/api/orgs/{orgId}/agents/{id}', { ...at(orgId, agentId), body: { name } })),
  deleteAgent: (orgId: string, agentId: string) => run(client.DELETE('/api/orgs/{orgId}/agents/{id}', at(orgId, agentId))),
  groups: (orgId: string) => run(client.GET('/api/orgs/{orgId}/groups', { params: { path: { orgId }, query: { limit: 200 } } })),
  createGroup: (orgId: string, input: Body<`${O}/groups`, 'post'>) => run(client.POST('/api/orgs/{orgId}/groups', { ...at(orgId), body: input })),
  updateGroup: (orgId: string, groupId: string, input: Body<`${O}/groups/{id}`, 'patch'>) => run(client.PATCH('/api/orgs/{orgId}/groups/{id}', { ...at(orgId, groupId), body: input })),
  deleteGroup: (orgId: string, groupId: string) => run(client.DELETE('/api/orgs/{orgId}/groups/{id}', at(orgId, groupId))),
  commands: (orgId: string, dongleId: string) => run(client.GET('/api/orgs/{orgId}/dongles/{id}/commands', { params: { path: { orgId, id: dongleId }, query: { limit: 50 } } })),
  sendCommand: (orgId: string, dongleId: string, command: NewCommand, idempotencyKey: string) =>
    run(client.POST('/api/orgs/{orgId}/dongles/{id}/commands', { params: { path: { orgId, id: dongleId }, header: { 'Idempotency-Key': idempotencyKey } }, body: command })),
  cancelCommand: (orgId: string, commandId: string) => run(client.POST('/api/orgs/{orgId}/commands/{id}/cancel', at(orgId, commandId))),

  // Jobs and firmware
  jobs: (orgId: string, cursor?: string) => run(client.GET('/api/orgs/{orgId}/jobs', { params: { path: { orgId }, query: { limit: 100, ...(cursor ? { cursor } : {}) } } })),
  job: (orgId: string, jobId: string) => run(client.GET('/api/orgs/{orgId}/jobs/{id}', at(orgId, jobId))),
  createJob: (orgId: string, input: NewJob) => run(client.POST('/api/orgs/{orgId}/jobs', { ...at(orgId), body: input })),
  jobExecutions: (orgId: string, jobId: string, cursor?: string) =>
    run(client.GET('/api/orgs/{orgId}/jobs/{id}/executions', { params: { path: { orgId, id: jobId }, query: { limit: 200, ...(cursor ? { cursor } : {}) } } })),
  pauseJob: (orgId: string, jobId: string) => run(client.POST('/api/orgs/{orgId}/jobs/{id}/pause', at(orgId, jobId))),
  resumeJob: (orgId: string, jobId: string) => run(client.POST('/api/orgs/{orgId}/jobs/{id}/resume', at(orgId, jobId))),
  cancelJob: (orgId: string, jobId: string) => run(client.POST('/api/orgs/{orgId}/jobs/{id}/cancel', at(orgId, jobId))),
  firmwareImages: (orgId: string) => run(client.GET('/api/orgs/{orgId}/firmware/images', { params: { path: { orgId }, query: { limit: 200 } } })),
  /** The image itself is the body (application/octet-stream), not JSON. */
  uploadFirmware: (orgId: string, meta: FirmwareMeta, file: Blob) =>
    run(
      client.POST('/api/orgs/{orgId}/firmware/images', {
        params: { path: { orgId }, query: meta },
        body: file as never,
        bodySerializer: (b: unknown) => b as Blob,
        headers: { 'Content-Type': 'application/octet-stream' },
      }),
    ) as Promise<FirmwareImage>,

  // Administration
  users: (query: { email?: string; status?: UserStatus; role?: Role; cursor?: string }) => run(client.GET('/api/admin/users', { params: { query: { limit: 50, ...query } } })),
  updateUser: (userId: string, change: Body<'/api/admin/users/{id}', 'patch'>) => run(client.PATCH('/api/admin/users/{id}', { ...id(userId), body: change })),
  auditLog: (filters: AuditFilters, cursor?: string) => run(client.GET('/api/admin/audit-logs', { params: { query: { limit: 50, ...filters, ...(cursor ? { cursor } : {}) } } })),
  /** A plain link (a download): same origin, the session cookie is all it needs. */
  auditExportUrl: (filters: AuditFilters, format: 'csv' | 'ndjson') => withQuery('/api/admin/audit-logs/export', { ...filters, format }),
  forceRelease: (dongleId: string) => run(client.POST('/api/admin/dongles/{id}/force-release', id(dongleId))),
};
