import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';

const SAFE_ID = /^[A-Za-z0-9._:-]{8,64}$/;

/**
 * Gives every request an id of our own (in X-Request-Id, the error body and every log line).
 * A caller's X-Request-Id is never taken as that id: two callers could send the same one, or
 * one could pose as another request in our logs. When it is safe to log it is kept as
 * `clientRequestId`, a separate correlation field of the request's log line.
 */
export function requestId(): RequestHandler {
  return (req, res, next) => {
    const id = randomUUID();
    res.locals.requestId = id;
    const incoming = req.get('x-request-id');
    if (incoming && SAFE_ID.test(incoming)) res.locals.clientRequestId = incoming;
    res.setHeader('X-Request-Id', id);
    next();
  };
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Locals {
      /** The caller's own X-Request-Id, for correlation only (see requestId()). */
      clientRequestId?: string;
    }
  }
}
