// The few error types the service raises on purpose. The error middleware turns each into the
// §3 body: {"error": {"code", "message", "details"?, "requestId"}}.

export interface ErrorDetail {
  path?: string;
  message: string;
  code?: string;
}

export class AppError extends Error {
  override name = 'AppError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: ErrorDetail[],
    readonly headers?: Record<string, string>,
  ) {
    super(message);
  }
}

export const badRequest = (code: string, message: string) => new AppError(400, code, message);
export const unauthorized = (message = 'Authentication is required.', code = 'unauthenticated') => new AppError(401, code, message);
export const forbidden = (code: string, message: string) => new AppError(403, code, message);
/** Also the answer for things that exist but belong to someone else: no existence oracle. */
export const notFound = (what = 'Resource') => new AppError(404, 'not_found', `${what} not found.`);
export const conflict = (code: string, message: string) => new AppError(409, code, message);
export const preconditionFailed = (message: string) => new AppError(412, 'precondition_failed', message);
export const unprocessable = (message: string, details?: ErrorDetail[]) => new AppError(422, 'validation_failed', message, details);
export const tooManyRequests = (retryAfterSeconds: number, message = 'Too many requests; try again later.') =>
  new AppError(429, 'rate_limited', message, undefined, { 'Retry-After': String(Math.max(1, Math.ceil(retryAfterSeconds))) });
/** A per-account quota (config `quotas`) is used up; `quota` names which, for clients to branch on. */
export const quotaExceeded = (quota: string, limit: number, message: string) =>
  new AppError(429, 'quota_exceeded', message, [{ code: quota, message: `The limit is ${limit}.` }]);
export const serviceUnavailable = (code: string, message: string, retryAfterSeconds?: number) =>
  new AppError(503, code, message, undefined, retryAfterSeconds ? { 'Retry-After': String(retryAfterSeconds) } : undefined);
