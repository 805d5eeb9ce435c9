// Serves the built operator dashboard (apps/dashboard-web/dist) from the API's own origin, so the
// session cookie and the X-CSRF-Token header need no CORS. Hashed assets are cached for a year;
// index.html is revalidated on every load so a deploy is picked up at once. Any GET that is not
// the API, the OpenAPI document or a health/metrics path gets index.html (the router is
// client-side). The page's CSP allows only its own scripts, styles and same-origin requests.
import { existsSync } from 'node:fs';
import path from 'node:path';
import express, { type Express, type RequestHandler } from 'express';
import { repoRoot } from '../paths.ts';

export const defaultWebDist = path.join(repoRoot, 'apps/dashboard-web/dist');

/** No inline script or style anywhere: Vite's build emits only external, hashed files. */
export const WEB_APP_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "object-src 'none'",
].join('; ');

// /assets is here too: a missing bundle must be a 404, never index.html served as JavaScript.
const NOT_THE_APP = /^\/(api|assets|openapi\.json|healthz|readyz|metrics)(\/|$)/;

/** Mounts the dashboard when it has been built; returns false (nothing mounted) otherwise. */
export function mountWebApp(app: Express, distDir: string = defaultWebDist): boolean {
  const indexHtml = path.join(distDir, 'index.html');
  if (!existsSync(indexHtml)) return false;

  const pageHeaders: RequestHandler = (_req, res, next) => {
    res.setHeader('Content-Security-Policy', WEB_APP_CSP);
    next();
  };
  app.use(
    '/assets',
    pageHeaders,
    express.static(path.join(distDir, 'assets'), {
      index: false,
      setHeaders: (res) => res.setHeader('Cache-Control', 'public, max-age=31536000, immutable'),
    }),
  );
  app.use(
    pageHeaders,
    express.static(distDir, { index: false, setHeaders: (res) => res.setHeader('Cache-Control', 'no-cache') }),
  );
  app.get(/.*/, (req, res, next) => {
    if (NOT_THE_APP.test(req.path)) return next();
    res.setHeader('Content-Security-Policy', WEB_APP_CSP);
    res.setHeader('Cache-Control', 'no-cache');
    res.sendFile(indexHtml);
  });
  return true;
}
