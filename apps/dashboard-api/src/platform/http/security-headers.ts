import cors from 'cors';
import type { RequestHandler } from 'express';
import helmet from 'helmet';

/**
 * §6 headers through helmet (maintained, covers the long tail of browser headers): nosniff,
 * no-referrer, a CSP that allows nothing and no framing, HSTS only when served over TLS. An API
 * answer is never cached: Cache-Control no-store everywhere under /api.
 */
export function securityHeaders(options: { tls: boolean }): RequestHandler[] {
  const noStore: RequestHandler = (_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    next();
  };
  return [
    helmet({
      contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"], baseUri: ["'none'"], formAction: ["'none'"] } },
      referrerPolicy: { policy: 'no-referrer' },
      strictTransportSecurity: options.tls ? { maxAge: 31_536_000, includeSubDomains: true } : false,
      crossOriginResourcePolicy: { policy: 'same-origin' },
    }),
    noStore,
  ];
}

/** CORS only for the configured origins, with credentials; no list, no CORS headers at all. */
export function corsForOrigins(origins: string[]): RequestHandler {
  const allowed = new Set(origins);
  return cors({
    origin: (origin, callback) => callback(null, origin !== undefined && allowed.has(origin)),
    credentials: true,
    allowedHeaders: ['Content-Type', 'X-CSRF-Token', 'Idempotency-Key', 'If-Match', 'X-Request-Id'],
    exposedHeaders: ['X-Request-Id', 'Retry-After', 'ETag'],
    maxAge: 600,
  });
}
