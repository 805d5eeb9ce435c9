// The composition root: createApp(deps) wires every feature into one Express app. Only the
// server entry (server.ts) listens, so tests run this exact app on port 0.
import express, { type Express } from 'express';
import { z } from 'zod';
import type { Config } from './config.ts';
import { mountAuditRoutes, mountOrgAuditRoutes } from './features/audit/audit.routes.ts';
import { createAuditReview } from './features/audit/audit.service.ts';
import { createAuthService } from './features/auth/auth.service.ts';
import { createEmailSender } from './features/email/email-sender.ts';
import { emailTransportFor } from './features/email/transports.ts';
import { mountMeRoutes } from './features/me/me.routes.ts';
import { createMeService } from './features/me/me.service.ts';
import { mountAdminUserRoutes } from './features/users/admin-users.routes.ts';
import { createAdminUsersService } from './features/users/admin-users.service.ts';
import { mountAgentApiRoutes, mountAgentRoutes } from './features/agents/agents.routes.ts';
import { createAgentsService } from './features/agents/agents.service.ts';
import { mountCanConfigRoutes } from './features/can-config/can-config.routes.ts';
import { createCanConfigService } from './features/can-config/can-config.service.ts';
import { mountDiscoveredRoutes } from './features/dongles/discovered.ts';
import { createClaimLapseWorker } from './features/dongles/claim-lapse.ts';
import { createDongleTokensService } from './features/dongles/dongle-tokens.service.ts';
import { mountDongleAdminRoutes, mountDongleAgentRoutes, mountDongleRoutes } from './features/dongles/dongles.routes.ts';
import { createDonglesService } from './features/dongles/dongles.service.ts';
import { lazyKeyRing } from './features/dongles/key-ring.ts';
import { mountTagRoutes } from './features/tags/tags.routes.ts';
import { createTagsService } from './features/tags/tags.service.ts';
import { FIRMWARE_UPLOAD_ROUTE, setupFirmware } from './features/firmware/firmware.feature.ts';
import { setupJobs } from './features/jobs/jobs.routes.ts';
import { mountGroupRoutes } from './features/groups/groups.routes.ts';
import { createGroupsService } from './features/groups/groups.service.ts';
import { mountAuthRoutes } from './features/auth/auth.routes.ts';
import { createGuards, refuseCrossSite } from './features/auth/guards.ts';
import { PasswordHasher } from './features/auth/password-hashing.ts';
import { createSessionMiddleware } from './features/auth/session.ts';
import { setupCommands } from './features/commands/commands.feature.ts';
import { setupEvents } from './features/events/events.feature.ts';
import { createApiKeysService } from './features/organizations/api-keys.service.ts';
import { createInvitationsService } from './features/organizations/invitations.service.ts';
import { mountInvitationAcceptRoutes, mountOrganizationRoutes } from './features/organizations/organizations.routes.ts';
import { createOrganizationsService } from './features/organizations/organizations.service.ts';
import { PERMISSIONS } from './features/organizations/policy.ts';
import { registerFleetGauges } from './features/health/fleet-metrics.ts';
import { mountHealthRoutes, type Readiness } from './features/health/health.routes.ts';
import type { Database } from './platform/database.ts';
import { ApiRouter } from './platform/http/api-router.ts';
import { closeConnectionsWhenDraining } from './platform/http/drain.ts';
import { errorHandler, routeNotFound } from './platform/http/error-handler.ts';
import { jsonBody } from './platform/http/json-body.ts';
import { OpenApiRegistry } from './platform/http/openapi.ts';
import { requestId } from './platform/http/request-id.ts';
import { requestLog } from './platform/http/request-log.ts';
import { corsForOrigins, securityHeaders } from './platform/http/security-headers.ts';
import { mountWebApp } from './platform/http/web-app.ts';
import { Lifecycle } from './platform/lifecycle.ts';
import type { Logger } from './platform/logger.ts';
import { createMetrics, metricsMiddleware, type Metrics } from './platform/metrics.ts';
import { rateLimitPruner } from './platform/rate-limit.ts';

/** Where the fleet routes are mounted: the v0.7 paths, and per organization. */
export const FLEET_PREFIXES = ['', '/orgs/:orgId'] as const;

/** The `info` of /openapi.json (and of the committed snapshot in apps/api-client). */
export const API_INFO = {
  title: 'Fleet dashboard API',
  version: '0.7.0',
  description: 'Operators (cookie session + CSRF header) and desktop agents (bearer token) manage a fleet of STM32 CAN-bus dongles. Errors: {"error": {"code", "message", "details"?, "requestId"}}.',
};

/** What each OpenAPI tag covers. */
export const API_TAGS: Record<string, string> = {
  auth: 'Sign-up, email verification, login, logout and password reset',
  me: 'The signed-in user: password and sessions',
  admin: 'Administrators: users, audit log, forced dongle release',
  audit: 'The audit log',
  agents: 'Operators manage their desktop agents and enrollment codes',
  agent: 'The agent API, called by desktop agents with their bearer token',
  dongles: 'Claiming, naming and releasing dongles',
  'can-config': 'A dongle’s CAN bus configuration',
  groups: 'Dongle groups',
  commands: 'Commands sent to dongles, and their history',
  operations: 'Liveness, readiness, metrics and this document',
  organizations: 'Organizations, members, invitations, API keys and the organization audit log',
  events: 'The organization’s event log: a keyset list and a resumable Server-Sent Events stream (doc/events.md)',
  alerts: 'Alert rules (dongle offline, command failure rate) and their open incidents',
  webhooks: 'Signed webhooks of an organization: endpoints, secret rotation, test deliveries and the delivery log',
  tags: 'key=value labels on dongles and the selectors that match them (doc/jobs.md)',
  firmware: 'Firmware images (application/octet-stream upload), Ed25519 signing keys, and the agent download with HTTP Range',
  jobs: 'Fleet jobs: one operation over many dongles with rate, stages, abort rules, pause, resume and cancel',
};

export interface AppDeps {
  config: Config;
  logger: Logger;
  db: Database;
  /** Secret for signing session cookies; main.ts supplies a development one when unset. */
  sessionSecret: string;
  hasher?: PasswordHasher;
  metrics?: Metrics;
  readiness?: Readiness;
  lifecycle?: Lifecycle;
  migrationsDir?: string;
  /** The built dashboard to serve at `/` (default apps/dashboard-web/dist; false: none). */
  webDist?: string | false;
  /** How long fleet gauges read from the database are cached (default 5 s; tests use 0). */
  fleetMetricsCacheMs?: number;
}

export interface App {
  express: Express;
  openapi: OpenApiRegistry;
  readiness: Readiness;
  metrics: Metrics;
  lifecycle: Lifecycle;
}

export function createApp(deps: AppDeps): App {
  const { config, logger, db } = deps;
  const metrics = deps.metrics ?? createMetrics();
  const readiness = deps.readiness ?? { draining: false };
  const hasher = deps.hasher ?? PasswordHasher.fromConfig(config);
  const lifecycle = deps.lifecycle ?? new Lifecycle();
  const openapi = new OpenApiRegistry({ minimumRole: (permission) => PERMISSIONS[permission] });
  const guards = createGuards(db, config);
  lifecycle.addWorker(rateLimitPruner(db, logger));

  const app = express();
  app.disable('x-powered-by');
  // A hop count, never `true`: only that many proxies may set X-Forwarded-For.
  app.set('trust proxy', config.trustProxyHops);

  app.use(requestId(), requestLog(logger), metricsMiddleware(metrics), closeConnectionsWhenDraining(readiness), ...securityHeaders({ tls: config.tls }));
  mountHealthRoutes(app, { db, metrics, readiness, openapi, migrationsDir: deps.migrationsDir, metricsToken: config.metricsToken });
  openapi.add('get', '/openapi.json', {
    summary: 'This API described in OpenAPI 3.1 (apps/api-client is generated from it)',
    tags: ['operations'],
    auth: 'public',
    responses: { 200: { description: 'The OpenAPI document', schema: z.record(z.string(), z.unknown()) } },
  });
  app.get('/openapi.json', (_req, res) => {
    res.json(openapi.document(API_INFO, API_TAGS));
  });

  const publicOrigin = new URL(config.publicUrl).origin;
  const api = express.Router();
  api.use(corsForOrigins(config.corsOrigins), refuseCrossSite([publicOrigin, ...config.corsOrigins]), ...jsonBody({ binaryUploads: [FIRMWARE_UPLOAD_ROUTE] }));
  // Cookie sessions for the dashboard; the bearer-only agent API (/api/agent/…) never loads one.
  const sessions = express.Router().use(createSessionMiddleware(config, db, deps.sessionSecret).middleware);
  api.use((req, res, next) => (req.path.startsWith('/agent/') ? next() : sessions(req, res, next)));
  const mount = (path: string) => {
    const router = new ApiRouter(openapi, guards, `/api${path}`);
    api.use(path, router.router);
    return router;
  };

  // Accounts and sessions: sign-up, verification, login, reset, my sessions, user management.
  const auth = createAuthService({ db, hasher, config, logger });
  lifecycle.addWorker(auth.worker());
  mountAuthRoutes(mount('/auth'), { auth, db, config });
  mountMeRoutes(mount('/me'), { me: createMeService({ db, hasher, loginFailures: auth.loginFailures }), config });
  mountAdminUserRoutes(mount('/admin/users'), { users: createAdminUsersService({ db }) });
  if (config.email.senderEnabled) lifecycle.addWorker(createEmailSender(db, emailTransportFor(config, logger), logger, config.email));
  const auditReview = createAuditReview({ db });
  mountAuditRoutes(mount('/admin'), { review: auditReview, logger });

  // Fleet: agents, dongles (claim, token exchange, release), groups, CAN configuration.
  const agents = createAgentsService({ db, config });
  const dongles = createDonglesService({ db });
  lifecycle.addWorker(createClaimLapseWorker({ db, logger, timeoutMs: config.claims.pendingTimeoutMs, intervalMs: config.claims.lapseIntervalMs }));
  const canConfig = createCanConfigService({ db });
  const groups = createGroupsService({ db });
  const tags = createTagsService({ db });
  // The operator's fleet routes, twice: unscoped (the v0.7 paths, acting in the caller's
  // personal organization or the API key's) and under /orgs/:orgId (doc/organizations.md).
  for (const prefix of FLEET_PREFIXES) {
    mountAgentRoutes(mount(`${prefix}/agents`), { agents });
    mountTagRoutes(mount(`${prefix}/dongles`), { tags });
    mountDiscoveredRoutes(mount(`${prefix}/dongles`), { db });
    mountDongleRoutes(mount(`${prefix}/dongles`), { dongles });
    mountCanConfigRoutes(mount(`${prefix}/dongles`), { canConfig });
    mountGroupRoutes(mount(`${prefix}/groups`), { groups });
  }
  mountAgentApiRoutes(mount('/agent'), { agents, db, config });
  mountDongleAgentRoutes(mount('/agent'), { tokens: createDongleTokensService({ db, keyRing: lazyKeyRing(config) }) });
  mountDongleAdminRoutes(mount('/admin'), { dongles });
  const { notifier } = setupCommands({ config, db, logger, lifecycle, mount, prefixes: FLEET_PREFIXES });
  registerFleetGauges(metrics, { db, logger, notifier, agentPollIntervalMs: config.agentPollIntervalMs, cacheMs: deps.fleetMetricsCacheMs });
  setupFirmware({ config, db, mount, prefixes: FLEET_PREFIXES });
  setupJobs({ config, db, logger, lifecycle, mount, prefixes: FLEET_PREFIXES });

  // Organizations: members, invitations, API keys (the fleet routes above are also per org).
  const invitations = createInvitationsService({ db, config });
  mountOrganizationRoutes(mount('/orgs'), { orgs: createOrganizationsService({ db }), invitations, apiKeys: createApiKeysService({ db }) });
  mountInvitationAcceptRoutes(mount('/invitations'), { invitations });
  mountOrgAuditRoutes(mount('/orgs'), { review: auditReview, logger });

  // Events: the log's list and SSE stream, presence, retention, webhooks (one LISTEN connection,
  // shared with the commands feature).
  setupEvents({ config, db, logger, lifecycle, listener: notifier, keyRing: lazyKeyRing(config), mount });

  app.use('/api', api);
  if (deps.webDist !== false) mountWebApp(app, deps.webDist);
  app.use(routeNotFound);
  app.use(errorHandler(logger));
  return { express: app, openapi, readiness, metrics, lifecycle };
}
