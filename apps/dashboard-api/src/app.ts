// The composition root: createApp(deps) wires every feature into one Express app. Only the
// server entry (server.ts) listens, so tests run this exact app on port 0.
import express, { type Express } from 'express';
import type { Config } from './config.ts';
import { createAuditReview } from './features/audit/audit.service.ts';
import { createAuthService } from './features/auth/auth.service.ts';
import { createGuards, refuseCrossSite } from './features/auth/guards.ts';
import { PasswordHasher } from './features/auth/password-hashing.ts';
import { createSessionMiddleware } from './features/auth/session.ts';
import { touchAgentLastSeen } from './features/agents/agent-presence.ts';
import { createAgentsService } from './features/agents/agents.service.ts';
import { createAlertWorker } from './features/alerts/alert-evaluator.ts';
import { createCanConfigService } from './features/can-config/can-config.service.ts';
import { cancelQueuedCommands } from './features/commands/command-queue.ts';
import { setupCommands } from './features/commands/commands.feature.ts';
import { createClaimLapseWorker } from './features/dongles/claim-lapse.ts';
import { createDongleTokensService } from './features/dongles/dongle-tokens.service.ts';
import { createDonglesService } from './features/dongles/dongles.service.ts';
import { lazyKeyRing } from './features/dongles/key-ring.ts';
import { createEmailSender } from './features/email/email-sender.ts';
import { emailTransportFor } from './features/email/transports.ts';
import { setupEvents } from './features/events/events.feature.ts';
import { FIRMWARE_UPLOAD_ROUTE } from './features/firmware/firmware.feature.ts';
import { createFirmwareService } from './features/firmware/firmware.service.ts';
import { createGroupsService } from './features/groups/groups.service.ts';
import { registerFleetGauges } from './features/health/fleet-metrics.ts';
import type { Readiness } from './features/health/health.routes.ts';
import { setupJobs } from './features/jobs/jobs.routes.ts';
import { createMeService } from './features/me/me.service.ts';
import { createApiKeysService } from './features/organizations/api-keys.service.ts';
import { createInvitationsService } from './features/organizations/invitations.service.ts';
import { createOrgGuards } from './features/organizations/org-scope.ts';
import { createOrganizationsService } from './features/organizations/organizations.service.ts';
import { personalOrganizationId } from './features/organizations/personal.ts';
import { PERMISSIONS } from './features/organizations/policy.ts';
import { createTagsService } from './features/tags/tags.service.ts';
import { createAdminUsersService } from './features/users/admin-users.service.ts';
import { setupWebhooks } from './features/webhooks/webhooks.feature.ts';
import type { Database } from './platform/database.ts';
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
import { ADMIN_BASE, adminRoutes } from './routes/admin.ts';
import { AGENT_BASE, agentRoutes } from './routes/agent.ts';
import { operationsRoutes } from './routes/operations.ts';
import { operatorRoutes } from './routes/operator.ts';

export { FLEET_PREFIXES } from './routes/operator.ts';

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
  const guards = createGuards(db, createOrgGuards(db, config));
  lifecycle.addWorker(rateLimitPruner(db, logger));

  // Services and background workers, feature by feature; the routes are wired per audience below.
  // What a lower feature needs from a higher one is handed in here (the organization guards,
  // cancelCommands, touchAgent, the hub's onEvent…), so imports between features point one way
  // (doc/architecture.md; test/contract/dependencies.test.ts).
  const auth = createAuthService({ db, hasher, config, logger, personalOrganizationId });
  lifecycle.addWorker(auth.worker());
  if (config.email.senderEnabled) lifecycle.addWorker(createEmailSender(db, emailTransportFor(config, logger), logger, config.email));
  lifecycle.addWorker(createClaimLapseWorker({ db, logger, cancelCommands: cancelQueuedCommands, timeoutMs: config.claims.pendingTimeoutMs, intervalMs: config.claims.lapseIntervalMs }));
  const { commands, agentCommands, notifier } = setupCommands({
    config,
    db,
    logger,
    lifecycle,
    touchAgent: async (agent) => {
      await touchAgentLastSeen(db.prisma, agent, { pollIntervalMs: config.agentPollIntervalMs });
    },
  });
  registerFleetGauges(metrics, { db, logger, notifier, agentPollIntervalMs: config.agentPollIntervalMs, cacheMs: deps.fleetMetricsCacheMs });
  const jobs = setupJobs({ config, db, logger, lifecycle });
  // Events (the hub, presence, retention) on the commands feature's LISTEN connection; webhook
  // deliveries woken by the hub; alerts evaluated on their own interval.
  const { hub, events } = setupEvents({ config, db, logger, lifecycle, listener: notifier });
  const { webhooks } = setupWebhooks({ config, db, logger, lifecycle, keyRing: lazyKeyRing(config), onEvent: (listener) => hub.onEvent(listener) });
  lifecycle.addWorker(createAlertWorker({ db, logger, intervalMs: config.events.alertIntervalMs, publicUrl: config.publicUrl }));
  const services = {
    config,
    db,
    logger,
    lifecycle,
    signal: lifecycle.signal,
    auth,
    me: createMeService({ db, hasher, loginFailures: auth.loginFailures }),
    adminUsers: createAdminUsersService({ db }),
    auditReview: createAuditReview({ db }),
    agents: createAgentsService({ db, config }),
    dongles: createDonglesService({ db, cancelCommands: cancelQueuedCommands }),
    dongleTokens: createDongleTokensService({ db, keyRing: lazyKeyRing(config), cancelCommands: cancelQueuedCommands }),
    canConfig: createCanConfigService({ db }),
    groups: createGroupsService({ db }),
    tags: createTagsService({ db }),
    commands,
    agentCommands,
    firmware: createFirmwareService({ db }),
    jobs,
    orgs: createOrganizationsService({ db }),
    invitations: createInvitationsService({ db, config }),
    apiKeys: createApiKeysService({ db }),
    events,
    hub,
    webhooks,
  };

  const app = express();
  app.disable('x-powered-by');
  // A hop count, never `true`: only that many proxies may set X-Forwarded-For.
  app.set('trust proxy', config.trustProxyHops);
  app.use(requestId(), requestLog(logger), metricsMiddleware(metrics), closeConnectionsWhenDraining(readiness), ...securityHeaders({ tls: config.tls }));

  // One router per audience (src/routes/): each lists every path it serves and the feature that
  // answers it. Registration order is the order of /openapi.json.
  const operations = operationsRoutes(openapi, {
    db,
    metrics,
    readiness,
    migrationsDir: deps.migrationsDir,
    metricsToken: config.metricsToken,
    document: () => openapi.document(API_INFO, API_TAGS),
  });
  const operator = operatorRoutes(openapi, guards, services);
  const agent = agentRoutes(openapi, guards, services);
  const admin = adminRoutes(openapi, guards, services);

  app.use(operations);
  const publicOrigin = new URL(config.publicUrl).origin;
  const api = express.Router();
  api.use(corsForOrigins(config.corsOrigins), refuseCrossSite([publicOrigin, ...config.corsOrigins]), ...jsonBody({ binaryUploads: [FIRMWARE_UPLOAD_ROUTE] }));
  // Agents carry a bearer token, never a cookie: their router comes before the session
  // middleware and ends in its own 404, so no agent request loads a session.
  api.use(AGENT_BASE, agent);
  api.use(createSessionMiddleware(config, db, deps.sessionSecret).middleware);
  api.use(ADMIN_BASE, admin);
  api.use(operator);
  app.use('/api', api);
  if (deps.webDist !== false) mountWebApp(app, deps.webDist);
  app.use(routeNotFound);
  app.use(errorHandler(logger));
  return { express: app, openapi, readiness, metrics, lifecycle };
}
