// Operations endpoints: liveness, readiness, Prometheus metrics.
import type { Express } from 'express';
import { migrationStatusOn, readLocalMigrations, type LocalMigration } from '../../db/migrator.ts';
import { serviceUnavailable } from '../../platform/errors.ts';
import { sendError } from '../../platform/http/error-handler.ts';
import type { Database } from '../../platform/database.ts';
import type { Metrics } from '../../platform/metrics.ts';

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

export function mountHealthRoutes(app: Express, deps: { db: Database; metrics: Metrics; readiness: Readiness; migrationsDir?: string }) {
  const local = readLocalMigrations(deps.migrationsDir);

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  app.get('/readyz', async (_req, res) => {
    const result = deps.readiness.draining ? { ready: false, reason: 'shutting down' } : await checkReadiness(deps.db, local);
    if (result.ready) {
      res.json({ status: 'ready' });
      return;
    }
    sendError(res, serviceUnavailable('not_ready', `Not ready: ${result.reason}.`));
  });

  app.get('/metrics', async (_req, res) => {
    res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });
}
