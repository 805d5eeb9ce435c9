// Operations: what load balancers, Prometheus and tooling call, outside /api — no session, no
// JSON body. Every path here:
//
//   GET /healthz, /readyz, /metrics   features/health (health.routes.ts)
//   GET /openapi.json                 this document (OpenApiRegistry; apps/api-client is generated from it)
import express from 'express';
import { z } from 'zod';
import { mountHealthRoutes, type Readiness } from '../features/health/health.routes.ts';
import type { Database } from '../platform/database.ts';
import type { OpenApiRegistry } from '../platform/http/openapi.ts';
import type { Metrics } from '../platform/metrics.ts';

export interface OperationsRouteDeps {
  db: Database;
  metrics: Metrics;
  readiness: Readiness;
  migrationsDir?: string;
  metricsToken?: string;
  /** The document served at /openapi.json (built on request, when every route is registered). */
  document: () => Record<string, unknown>;
}

export function operationsRoutes(openapi: OpenApiRegistry, deps: OperationsRouteDeps): express.Router {
  const router = express.Router();
  mountHealthRoutes(router, { db: deps.db, metrics: deps.metrics, readiness: deps.readiness, openapi, migrationsDir: deps.migrationsDir, metricsToken: deps.metricsToken });
  openapi.add('get', '/openapi.json', {
    summary: 'This API described in OpenAPI 3.1 (apps/api-client is generated from it)',
    tags: ['operations'],
    auth: 'public',
    responses: { 200: { description: 'The OpenAPI document', schema: z.record(z.string(), z.unknown()) } },
  });
  router.get('/openapi.json', (_req, res) => {
    res.json(deps.document());
  });
  return router;
}
