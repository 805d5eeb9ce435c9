// Operations endpoints: liveness, readiness, Prometheus metrics.
import type { Express } from 'express';
import { readLocalMigrations } from '../../db/migrator.ts';
import type { Database } from '../../platform/database.ts';
import type { Metrics } from '../../platform/metrics.ts';

export interface Readiness {
  /** Set during shutdown so load balancers stop sending traffic before the server closes. */
  draining: boolean;
}

/** Ready = the database answers and every migration in prisma/migrations is applied. */
export async function checkReadiness(db: Database, expectedMigrations: string[]): Promise<{ ready: boolean; reason?: string }> {
  try {
    const { rows } = await db.pool.query<{ migration_name: string }>(
      `SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`,
    );
    const applied = new Set(rows.map((r) => r.migration_name));
    const pending = expectedMigrations.filter((name) => !applied.has(name));
    return pending.length === 0 ? { ready: true } : { ready: false, reason: `${pending.length} migration(s) pending` };
  } catch (error) {
    const code = (error as { code?: string }).code;
    return { ready: false, reason: code === '42P01' ? 'migrations not applied' : 'database unreachable' };
  }
}

export function mountHealthRoutes(app: Express, deps: { db: Database; metrics: Metrics; readiness: Readiness; migrationsDir?: string }) {
  const expected = readLocalMigrations(deps.migrationsDir).map((m) => m.name);

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  app.get('/readyz', async (_req, res) => {
    const result = deps.readiness.draining ? { ready: false, reason: 'shutting down' } : await checkReadiness(deps.db, expected);
    if (result.ready) {
      res.json({ status: 'ready' });
      return;
    }
    res.status(503).json({ error: { code: 'not_ready', message: `Not ready: ${result.reason}.`, requestId: res.locals.requestId } });
  });

  app.get('/metrics', async (_req, res) => {
    res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });
}
