import type { RequestHandler } from 'express';
import type { Logger } from '../logger.ts';

/**
 * One line per request (the path with its mount prefix: at 'finish' Express has stripped it from
 * req.path) with its id (and the caller's own X-Request-Id, if any), route, status and duration. The query string is left out
 * on purpose (it can carry tokens), and so are headers and bodies.
 */
export function requestLog(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
      const level = res.statusCode >= 500 ? 'error' : 'info';
      logger[level]({ requestId: res.locals.requestId, clientRequestId: res.locals.clientRequestId, method: req.method, path: `${req.baseUrl}${req.path}`, status: res.statusCode, durationMs: Math.round(durationMs * 10) / 10, userId: res.locals.userId, agentId: res.locals.agentId }, 'request');
    });
    next();
  };
}
