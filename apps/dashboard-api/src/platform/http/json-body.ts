import express, { type RequestHandler } from 'express';
import { AppError } from '../errors.ts';

export const BODY_LIMIT = '100kb';

const METHODS_WITH_BODY = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

function hasBody(req: Parameters<RequestHandler>[0]): boolean {
  const length = req.get('content-length');
  return req.get('transfer-encoding') !== undefined || (length !== undefined && length !== '0');
}

/**
 * JSON only. A request that carries a body of any other type is refused with 415 before it can
 * reach a handler; this is also what keeps simple cross-site form posts out (§6 CSRF).
 * Oversized bodies: 413. Malformed JSON: 400 (both mapped by the error middleware).
 */
export function jsonBody(options: { binaryUploads?: Array<{ method: string; path: RegExp }> } = {}): RequestHandler[] {
  // The documented exception (doc/jobs.md): routes that take application/octet-stream (firmware
  // images) parse their own body with their own limit.
  const binary = (req: Parameters<RequestHandler>[0]) =>
    req.is('application/octet-stream') && (options.binaryUploads ?? []).some((u) => u.method === req.method && u.path.test(req.path));
  const requireJson: RequestHandler = (req, _res, next) => {
    if (METHODS_WITH_BODY.has(req.method) && hasBody(req) && !req.is('application/json') && !binary(req)) {
      next(new AppError(415, 'unsupported_media_type', 'Request bodies must be application/json.'));
      return;
    }
    next();
  };
  return [requireJson, express.json({ limit: BODY_LIMIT, strict: true, type: 'application/json' })];
}
