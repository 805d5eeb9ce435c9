import type { RequestHandler } from 'express';

/**
 * While the server drains, every response (decided when its headers are written, so a long-poll
 * that started before the drain counts too) carries `Connection: close`. Node then closes the
 * socket after that response; the client's next request needs a new connection, which the
 * closed listener refuses, and the drain ends instead of an agent re-polling over its
 * keep-alive connection until the shutdown deadline.
 */
export function closeConnectionsWhenDraining(readiness: { draining: boolean }): RequestHandler {
  return (_req, res, next) => {
    const writeHead = res.writeHead;
    res.writeHead = function (this: typeof res, ...args: Parameters<typeof res.writeHead>) {
      if (readiness.draining && !res.headersSent) res.setHeader('Connection', 'close');
      return writeHead.apply(this, args);
    } as typeof res.writeHead;
    next();
  };
}
