import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import { z } from 'zod';
import { Prisma } from '../../generated/prisma/client.ts';
import { isDatabaseUnavailable } from '../database.ts';
import { AppError, notFound } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { zodIssuesToDetails } from './api-router.ts';
import { BODY_LIMIT } from './json-body.ts';

/** Unmatched routes: the §3 error shape, never Express's HTML page. */
// baseUrl: the full path also when a mounted router (routes/agent.ts) ends in this.
export const routeNotFound: RequestHandler = (req, _res, next) => next(notFound(`Route ${req.method} ${req.baseUrl}${req.path}`));

/** Errors raised by body-parser carry a `type`; map the ones a client can cause. */
function fromBodyParser(error: { type?: string; status?: number; code?: unknown; expose?: unknown }): AppError | undefined {
  // A Content-Encoding the body does not match (say "gzip" over plain JSON): zlib's error,
  // wrapped by body-parser as a 400 without a `type`.
  if (typeof error.code === 'string' && error.code.startsWith('Z_')) {
    return new AppError(400, 'malformed_body', 'The request body does not match its Content-Encoding.');
  }
  switch (error.type) {
    case 'entity.too.large':
      return new AppError(413, 'payload_too_large', `The request body is larger than ${BODY_LIMIT}.`);
    case 'entity.parse.failed':
      return new AppError(400, 'malformed_json', 'The request body is not valid JSON.');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new AppError(415, 'unsupported_media_type', 'Unsupported body encoding or charset.');
    case 'request.aborted':
      return new AppError(400, 'request_aborted', 'The request was aborted.');
    default:
      // Any other client error body-parser reports (http-errors marks them `expose`) stays a 4xx.
      if (error.expose === true && typeof error.status === 'number' && error.status >= 400 && error.status < 500) {
        return new AppError(error.status, 'bad_request', 'The request body could not be read.');
      }
      return undefined;
  }
}

function fromPrisma(error: unknown): AppError | undefined {
  if (error instanceof Prisma.PrismaClientKnownRequestError) {
    if (error.code === 'P2002') return new AppError(409, 'conflict', 'That conflicts with an existing record.');
    if (error.code === 'P2025') return notFound();
  }
  if (isDatabaseUnavailable(error)) {
    return new AppError(503, 'database_unavailable', 'The database is not reachable; try again shortly.', undefined, { 'Retry-After': '5' });
  }
  return undefined;
}

export function toAppError(error: unknown): AppError | undefined {
  if (error instanceof AppError) return error;
  if (error instanceof z.ZodError) return new AppError(422, 'validation_failed', 'The request is not valid.', zodIssuesToDetails(error));
  // The router could not percent-decode a path segment (say %ED%A0%80, a lone surrogate).
  if (error instanceof URIError) return new AppError(400, 'malformed_url', 'The request path is not valid percent-encoded UTF-8.');
  if (error && typeof error === 'object' && ('type' in error || 'expose' in error)) {
    const mapped = fromBodyParser(error as { type?: string });
    if (mapped) return mapped;
  }
  return fromPrisma(error);
}

export function sendError(res: Response, error: AppError): void {
  for (const [name, value] of Object.entries(error.headers ?? {})) res.setHeader(name, value);
  res.status(error.status).json({
    error: {
      code: error.code,
      message: error.message,
      ...(error.details ? { details: error.details } : {}),
      requestId: res.locals.requestId as string,
    },
  });
}

/** The one error middleware: known errors keep their status; anything else is logged and becomes a generic 500. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error, req, res, next) => {
    if (res.headersSent) return next(error);
    const known = toAppError(error);
    if (known) {
      if (known.status >= 500) logger.warn({ requestId: res.locals.requestId, errorCode: known.code, err: error }, known.message);
      return sendError(res, known);
    }
    logger.error({ requestId: res.locals.requestId, method: req.method, path: req.path, err: error }, 'unhandled error');
    sendError(res, new AppError(500, 'internal_error', 'Something went wrong on our side.'));
  };
}
