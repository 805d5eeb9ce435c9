// Every call the dashboard makes to the API, typed, behind one module. When the generated
// client (@fleet/api-client, from /openapi.json) lands, only this file changes: the types below
// become aliases of its schema types and `call` becomes its fetch.
//
// Same origin as the API: the session cookie rides along by itself; state-changing requests
// carry the CSRF token from the session. A 401 on anything but the auth endpoints means the
// session ended (expired, revoked, suspended): the registered handler sends the user to log in.

export type Role = 'user' | 'admin';
export type UserStatus = 'active' | 'suspended';
export interface User {
  id: string;
  email: string;
  role: Role;
  status: UserStatus;
  emailVerified: boolean;
  createdAt: string;
  lastLoginAt: string | null;
}
export interface Session {
  user: User;
  csrfToken: string;
}
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}
export type DongleState = 'UNCLAIMED' | 'CLAIM_PENDING' | 'CLAIMED_ACTIVE' | 'RELEASE_PENDING';
export interface Dongle {
  id: string;
  deviceId: string;
  name: string | null;
  state: DongleState;
  firmwareVersion: string | null;
  lastSeenAt: string | null;
  lastSeenAgentId: string | null;
  groupId: string | null;
  canConfigVersion: number;
  canConfigAppliedVersion: number;
  createdAt: string;
  updatedAt: string;
}
export interface DiscoveredDongle {
  deviceId: string;
  firmwareVersion: string | null;
  lastSeenAt: string;
  agentId: string;
  agentName: string;
}
export interface Agent {
  id: string;
  name: string;
  hostname: string | null;
  os: string | null;
  version: string | null;
  lastSeenAt: string | null;
  online: boolean;
  createdAt: string;
}
export interface EnrollmentCode {
  code: string;
  expiresAt: string;
}
export type GroupMode = 'ACTIVE' | 'PAUSED';
export interface Group {
  id: string;
  name: string | null;
  mode: GroupMode;
  dongleAId: string;
  dongleBId: string;
  createdAt: string;
  updatedAt: string;
}
export type CanMode = 'NORMAL' | 'LISTEN_ONLY' | 'LOOPBACK';
export interface CanConfigInput {
  mode: CanMode;
  nominalBitrate: number;
  nominalSamplePoint: number;
  nominalSjw?: number;
  clockHz?: number;
  fdEnabled?: boolean;
  dataBitrate?: number;
  dataSamplePoint?: number;
  dataSjw?: number;
  termination?: boolean;
  autoRetransmit?: boolean;
}
export interface CanConfig extends Required<Omit<CanConfigInput, 'dataBitrate' | 'dataSamplePoint' | 'dataSjw'>> {
  dongleId: string;
  version: number;
  appliedVersion: number;
  nominalPrescaler: number;
  nominalSeg1: number;
  nominalSeg2: number;
  dataBitrate: number | null;
  dataSamplePoint: number | null;
  dataSjw: number | null;
  dataPrescaler: number | null;
  dataSeg1: number | null;
  dataSeg2: number | null;
  updatedAt: string | null;
  applyCommandId?: string;
}
export type CommandType = 'PING' | 'GET_STATUS' | 'REBOOT' | 'SEND_FRAME' | 'APPLY_CAN_CONFIG' | 'START_CAPTURE' | 'STOP_CAPTURE';
export type CommandStatus = 'QUEUED' | 'DELIVERED' | 'SUCCEEDED' | 'FAILED' | 'EXPIRED' | 'TIMED_OUT' | 'CANCELLED';
export type NewCommand =
  | { type: 'PING'; payload?: { echo?: string } }
  | { type: 'GET_STATUS' | 'REBOOT' | 'STOP_CAPTURE' }
  | { type: 'SEND_FRAME'; payload: { canId: number; extended?: boolean; fd?: boolean; brs?: boolean; data: string } }
  | { type: 'START_CAPTURE'; payload?: { durationSeconds?: number; maxFrames?: number } };
export interface Command {
  id: string;
  dongleId: string;
  type: CommandType;
  payload: unknown;
  status: CommandStatus;
  result: unknown;
  error: string | null;
  createdByUserId: string | null;
  agentId: string | null;
  expiresAt: string;
  deliveredAt: string | null;
  completedAt: string | null;
  createdAt: string;
}
export interface MySession {
  id: string;
  current: boolean;
  createdAt: string;
  lastActiveAt: string;
  expiresAt: string;
  ip: string | null;
  userAgent: string | null;
}
export interface AuditEntry {
  id: string;
  createdAt: string;
  actorType: 'user' | 'agent' | 'system';
  actorId: string | null;
  action: string;
  targetType: string;
  targetId: string | null;
  result: string;
  ip: string | null;
  userAgent: string | null;
  details: unknown;
}
export interface AuditFilters {
  actorId?: string;
  action?: string;
  targetType?: string;
  targetId?: string;
  from?: string;
  to?: string;
}
export interface ErrorDetail {
  path?: string;
  message: string;
}

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

type Query = Record<string, string | number | undefined | null>;

export function withQuery(path: string, query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') params.set(k, String(v));
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

async function call<T>(method: string, path: string, options: { body?: unknown; query?: Query; headers?: Record<string, string> } = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json', ...options.headers };
  if (options.body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  let res: Response;
  try {
    res = await fetch(withQuery(path, options.query), {
      method,
      headers,
      credentials: 'same-origin',
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
  } catch {
    throw new ApiError(0, 'network_error', 'The server could not be reached. Check your connection; the page retries on its own.', null);
  }
  const requestId = res.headers.get('X-Request-Id');
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let json: unknown = undefined;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    /* not JSON: handled below */
  }
  if (!res.ok) {
    const error = (json as { error?: { code?: string; message?: string; details?: ErrorDetail[]; requestId?: string } } | undefined)?.error;
    const apiError = new ApiError(
      res.status,
      error?.code ?? 'http_error',
      error?.message ?? `The server answered ${res.status} ${res.statusText}.`,
      error?.requestId ?? requestId,
      error?.details ?? [],
    );
    if (res.status === 401 && !path.startsWith('/api/auth/')) onUnauthorized?.();
    throw apiError;
  }
  return json as T;
}

export const api = {
  // Accounts
  session: () => call<Session>('GET', '/api/auth/session'),
  signup: (email: string, password: string) => call<{ email: string; message: string }>('POST', '/api/auth/signup', { body: { email, password } }),
  verifyEmail: (token: string) => call<{ emailVerified: true }>('POST', '/api/auth/verify-email', { body: { token } }),
  login: (email: string, password: string) => call<Session>('POST', '/api/auth/login', { body: { email, password } }),
  logout: () => call<void>('POST', '/api/auth/logout'),
  requestPasswordReset: (email: string) => call<{ message: string }>('POST', '/api/auth/password-reset/request', { body: { email } }),
  confirmPasswordReset: (token: string, password: string) => call<void>('POST', '/api/auth/password-reset/confirm', { body: { token, password } }),
  changePassword: (currentPassword: string, newPassword: string) => call<void>('POST', '/api/me/password', { body: { currentPassword, newPassword } }),
  mySessions: () => call<Page<MySession>>('GET', '/api/me/sessions', { query: { limit: 200 } }),
  endSession: (id: string) => call<void>('DELETE', `/api/me/sessions/${id}`),
  endOtherSessions: () => call<{ revoked: number }>('POST', '/api/me/sessions/revoke-others'),

  // Fleet
  dongles: (cursor?: string) => call<Page<Dongle>>('GET', '/api/dongles', { query: { limit: 200, cursor } }),
  dongle: (id: string) => call<Dongle>('GET', `/api/dongles/${id}`),
  discovered: () => call<{ items: DiscoveredDongle[] }>('GET', '/api/dongles/discovered'),
  claim: (deviceId: string) => call<Dongle>('POST', '/api/dongles/claim', { body: { deviceId } }),
  renameDongle: (id: string, name: string | null) => call<Dongle>('PATCH', `/api/dongles/${id}`, { body: { name } }),
  releaseDongle: (id: string) => call<Dongle>('POST', `/api/dongles/${id}/release`),
  canConfig: (id: string) => call<CanConfig>('GET', `/api/dongles/${id}/can-config`),
  putCanConfig: (id: string, version: number, input: CanConfigInput) =>
    call<CanConfig>('PUT', `/api/dongles/${id}/can-config`, { body: input, headers: { 'If-Match': `"${version}"` } }),
  agents: () => call<Page<Agent>>('GET', '/api/agents', { query: { limit: 200 } }),
  createEnrollmentCode: () => call<EnrollmentCode>('POST', '/api/agents/enrollment-codes'),
  renameAgent: (id: string, name: string) => call<Agent>('PATCH', `/api/agents/${id}`, { body: { name } }),
  deleteAgent: (id: string) => call<void>('DELETE', `/api/agents/${id}`),
  groups: () => call<Page<Group>>('GET', '/api/groups', { query: { limit: 200 } }),
  createGroup: (input: { dongleAId: string; dongleBId: string; name?: string; mode?: GroupMode }) => call<Group>('POST', '/api/groups', { body: input }),
  updateGroup: (id: string, input: { name?: string; mode?: GroupMode }) => call<Group>('PATCH', `/api/groups/${id}`, { body: input }),
  deleteGroup: (id: string) => call<void>('DELETE', `/api/groups/${id}`),
  commands: (dongleId: string) => call<Page<Command>>('GET', `/api/dongles/${dongleId}/commands`, { query: { limit: 50 } }),
  sendCommand: (dongleId: string, command: NewCommand, idempotencyKey: string) =>
    call<Command>('POST', `/api/dongles/${dongleId}/commands`, { body: command, headers: { 'Idempotency-Key': idempotencyKey } }),
  cancelCommand: (id: string) => call<Command>('POST', `/api/commands/${id}/cancel`),

  // Administration
  users: (query: { email?: string; status?: UserStatus; role?: Role; cursor?: string }) =>
    call<Page<User>>('GET', '/api/admin/users', { query: { limit: 50, ...query } }),
  updateUser: (id: string, change: { role?: Role; status?: UserStatus }) => call<User>('PATCH', `/api/admin/users/${id}`, { body: change }),
  auditLog: (filters: AuditFilters, cursor?: string) => call<Page<AuditEntry>>('GET', '/api/admin/audit-logs', { query: { limit: 50, ...filters, cursor } }),
  auditExportUrl: (filters: AuditFilters, format: 'csv' | 'ndjson') => withQuery('/api/admin/audit-logs/export', { ...filters, format }),
  forceRelease: (id: string) => call<Dongle>('POST', `/api/admin/dongles/${id}/force-release`),
};
