import type { RequestHandler } from 'express';
import session from 'express-session';
import type { Config } from '../../config.ts';
import type { Database } from '../../platform/database.ts';
import { FleetSessionStore } from './session-store.ts';

export const SESSION_COOKIE = 'fleet.sid';

/** Over TLS the cookie is Secure and carries the __Host- prefix (no Domain, Path=/). */
export function sessionCookieName(config: Pick<Config, 'tls'>): string {
  return config.tls ? `__Host-${SESSION_COOKIE}` : SESSION_COOKIE;
}

export interface SessionSetup {
  store: FleetSessionStore;
  middleware: RequestHandler[];
}

export function createSessionMiddleware(config: Config, db: Database, secret: string): SessionSetup {
  const store = new FleetSessionStore(db.pool, {
    idleMs: config.sessionIdleMs,
    absoluteMs: config.sessionAbsoluteMs,
    // A few minutes, and always well inside the idle window.
    touchIntervalMs: Math.min(5 * 60_000, Math.floor(config.sessionIdleMs / 6)),
  });
  const sessionHandler = session({
    name: sessionCookieName(config),
    secret,
    store,
    resave: false,
    // Anonymous requests create no row: a session exists only after login.
    saveUninitialized: false,
    rolling: false,
    // 'keep', never 'destroy': when the store read fails (a database blip), express-session
    // leaves req.session unset and passes the error on (→ 503); with 'destroy' it would then
    // delete the row at the end of that response and log the operator out for good. Sessions
    // end only through req.session.destroy() (logout, expiry, revocation).
    unset: 'keep',
    // Set on the app from config; express-session checks req.secure through it.
    proxy: undefined,
    cookie: {
      httpOnly: true,
      sameSite: 'lax',
      secure: config.tls,
      path: '/',
      // The cookie lives as long as the session may; the server enforces idle and absolute.
      maxAge: config.sessionAbsoluteMs,
    },
  });

  // An active session still ends at its absolute limit, even if the row has not expired yet.
  const enforceAbsoluteLifetime: RequestHandler = (req, _res, next) => {
    const created = req.session?.createdAt;
    if (req.session?.userId && (!created || Date.now() - created >= config.sessionAbsoluteMs)) {
      req.session.destroy(() => next());
      return;
    }
    next();
  };

  return { store, middleware: [sessionHandler, enforceAbsoluteLifetime] };
}
