// A typed client of the fleet dashboard API. `schema.d.ts` is generated from the server's
// OpenAPI document (npm run api:generate; never edit it by hand), so every path, parameter,
// body and response here is checked against the routes as they are.
//
//   const api = createApiClient('http://localhost:3000', { token: agentToken });
//   const polled = await unwrap(api.GET('/api/agent/commands', { params: { query: { wait: 30 } } }));
import createClient, { type Middleware } from 'openapi-fetch';
import type { components, operations, paths } from './schema.d.ts';

export type { components, operations, paths };
/** The error body every API error has: {"error": {"code", "message", "details"?, "requestId"}}. */
export type ErrorBody = components['schemas']['Error'];

type Credential = string | undefined | (() => string | undefined);
const read = (credential: Credential) => (typeof credential === 'function' ? credential() : credential);

export interface ApiClientOptions {
  /** An agent's bearer token, or a function that returns the current one (it changes on enroll and rotation). */
  token?: Credential;
  /** A dashboard session's CSRF token, sent on state-changing requests. */
  csrfToken?: Credential;
  /** Extra headers on every request. */
  headers?: Record<string, string>;
  /** Browsers: 'include' to send the session cookie to another origin. */
  credentials?: 'include' | 'same-origin' | 'omit';
  fetch?: typeof globalThis.fetch;
}

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export function createApiClient(baseUrl: string, options: ApiClientOptions = {}) {
  const client = createClient<paths>({
    baseUrl: baseUrl.replace(/\/+$/, ''),
    headers: { accept: 'application/json', ...options.headers },
    ...(options.credentials ? { credentials: options.credentials } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  const credentials: Middleware = {
    onRequest({ request }) {
      const token = read(options.token);
      if (token) request.headers.set('authorization', `Bearer ${token}`);
      const csrf = read(options.csrfToken);
      if (csrf && STATE_CHANGING.has(request.method)) request.headers.set('x-csrf-token', csrf);
      return request;
    },
  };
  client.use(credentials);
  return client;
}

export type ApiClient = ReturnType<typeof createApiClient>;

/** An API answer other than 2xx, with the fields of the error body. */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly requestId?: string,
    readonly details?: ErrorBody['error']['details'],
  ) {
    super(`${status} ${code}: ${message}`);
  }
}

/** Awaits an openapi-fetch call: its data on success, else throws ApiError. */
export async function unwrap<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const { data, error, response } = await call;
  if (response.ok) return data as T;
  const body = (error as Partial<ErrorBody> | undefined)?.error;
  throw new ApiError(response.status, body?.code ?? 'http_error', body?.message ?? response.statusText, body?.requestId, body?.details);
}
