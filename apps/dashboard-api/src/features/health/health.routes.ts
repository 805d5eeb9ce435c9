// Operations endpoints: liveness, readiness, Prometheus metrics.
import type { Router } from 'express';
import { z } from 'zod';
import { migrationStatusOn, readLocalMigrations, type LocalMigration } from '../../platform/migration-status.ts';
import { serviceUnavailable, unauthorized } from '../../platform/errors.ts';
import { safeEqual } from '../../platform/secrets.ts';
import { sendError } from '../../platform/http/error-handler.ts';
import type { Database } from '../../platform/database.ts';
import type { Metrics } from '../../platform/metrics.ts';
import type { OpenApiRegistry } from '../../platform/http/openapi.ts';

export interface Readiness {
  /** Set during shutdown so load balancers stop sending traffic before the server closes. */
  draining: boolean;
}

/** Ready = the database answers, and every migration in prisma/migrations is applied, none failed. */
export async function checkReadiness(db: Database, local: LocalMigration[]): Promise<{ ready: boolean; reason?: string }> {
  try {
    const status = await migrationStatusOn(db.pool, local);
    if (status.failed.length > 0) return { ready: false, reason: `migration ${status.failed.join(', ')} failed` };
    if (status.pending.length > 0) return { ready: false, reason: `${status.pending.length} migration(s) pending` };
    return { ready: true };
  } catch {
    return { ready: false, reason: 'database unreachable' };
  }
}

const tags = ['operations'];

export function mountHealthRoutes(app: Router, deps: { db: Database; metrics: Metrics; readiness: Readiness; openapi: OpenApiRegistry; migrationsDir?: string; metricsToken?: string }) {
  const local = readLocalMigrations(deps.migrationsDir);
  // Mounted outside the ApiRouter (no guards, no JSON body), so each is described here.
  const describe = (path: string, spec: Parameters<OpenApiRegistry['add']>[2]) => deps.openapi.add('get', path, spec);

  describe('/healthz', { summary: 'Liveness: the process answers', tags, auth: 'public', responses: { 200: { description: 'Alive', schema: z.object({ status: z.literal('ok') }) } } });

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  describe('/readyz', {
    summary: 'Readiness: the database answers and every migration is applied',
    tags,
    auth: 'public',
    responses: { 200: { description: 'Ready', schema: z.object({ status: z.literal('ready') }) }, 503: { description: 'not_ready: database unreachable, migrations pending or failed, or shutting down' } },
  });
  app.get('/readyz', async (_req, res) => {
    const result = deps.readiness.draining ? { ready: false, reason: 'shutting down' } : await checkReadiness(deps.db, local);
    if (result.ready) {
      res.json({ status: 'ready' });
      return;
    }
    sendError(res, serviceUnavailable('not_ready', `Not ready: ${result.reason}.`));
  });

  describe('/metrics', { summary: 'Prometheus metrics (doc/operations.md); behind a bearer token when METRICS_TOKEN is set', tags, auth: 'public', responses: { 200: { description: 'Prometheus text exposition', contentType: 'text/plain' } } });
  // With METRICS_TOKEN set, the scraper must present it (any case of "Bearer", RFC 9110).
  app.get('/metrics', async (req, res) => {
    if (deps.metricsToken) {
      const presented = /^bearer +(\S+)$/i.exec(req.get('authorization') ?? '')?.[1];
      if (!presented || !safeEqual(presented, deps.metricsToken)) {
        res.setHeader('WWW-Authenticate', 'Bearer realm="metrics"');
        sendError(res, unauthorized('A valid metrics bearer token is required.'));
        return;
      }
    }
    res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });
}
