// The operator API: the dashboard's users (cookie session + CSRF header) and API keys, under
// /api. Every path, and which feature answers it:
//
//   /auth/…                       features/auth (sign-up, verification, login, logout, reset)
//   /me/…                         features/me (password, sessions)
//   the fleet, twice — unscoped (the v0.7 paths, in the caller's personal organization or the
//   API key's) and under /orgs/:orgId (doc/organizations.md):
//     /agents/…                   features/agents (enrollment codes, the operator's agents)
//     /dongles/tags/bulk, /dongles/:id/tags/…    features/tags
//     /dongles/discovered         features/dongles (discovered.ts)
//     /dongles, /dongles/claim, /dongles/:id, /dongles/:id/release    features/dongles
//     /dongles/:id/can-config     features/can-config
//     /dongles/:id/commands       features/commands (send, with Idempotency-Key; history)
//     /groups/…                   features/groups
//     /commands/:id, /commands/:id/cancel        features/commands
//     /firmware/images/…, /firmware/signing-keys/…    features/firmware
//     /jobs/…                     features/jobs
//   /orgs, /orgs/:orgId/{members,invitations,api-keys,transfer,leave}    features/organizations
//   /orgs/:orgId/audit-logs/…     features/audit
//   /orgs/:orgId/events/…         features/events (list, SSE stream)
//   /orgs/:orgId/alerts/…         features/alerts
//   /orgs/:orgId/webhooks/…       features/webhooks
//   /invitations/accept           features/organizations
// Within one path prefix the order below is the order Express tries routes in
// (/dongles/discovered before /dongles/:id).
import type express from 'express';
import type { Config } from '../config.ts';
import { mountAlertRoutes } from '../features/alerts/alerts.routes.ts';
import { mountAgentRoutes } from '../features/agents/agents.routes.ts';
import type { AgentsService } from '../features/agents/agents.service.ts';
import { mountOrgAuditRoutes } from '../features/audit/audit.routes.ts';
import type { AuditReview } from '../features/audit/audit.service.ts';
import { mountAuthRoutes } from '../features/auth/auth.routes.ts';
import type { AuthService } from '../features/auth/auth.service.ts';
import { mountCanConfigRoutes } from '../features/can-config/can-config.routes.ts';
import type { CanConfigService } from '../features/can-config/can-config.service.ts';
import { mountCommandRoutes } from '../features/commands/commands.routes.ts';
import type { CommandService } from '../features/commands/commands.service.ts';
import { mountDiscoveredRoutes } from '../features/dongles/discovered.ts';
import { mountDongleRoutes } from '../features/dongles/dongles.routes.ts';
import type { DonglesService } from '../features/dongles/dongles.service.ts';
import type { EventHub } from '../features/events/event-hub.ts';
import { mountEventRoutes } from '../features/events/events.routes.ts';
import type { EventsService } from '../features/events/events.service.ts';
import { mountFirmwareRoutes } from '../features/firmware/firmware.feature.ts';
import type { FirmwareService } from '../features/firmware/firmware.service.ts';
import { mountGroupRoutes } from '../features/groups/groups.routes.ts';
import type { GroupsService } from '../features/groups/groups.service.ts';
import { mountJobRoutes } from '../features/jobs/jobs.routes.ts';
import type { JobsService } from '../features/jobs/jobs.service.ts';
import { mountMeRoutes } from '../features/me/me.routes.ts';
import type { MeService } from '../features/me/me.service.ts';
import type { ApiKeysService } from '../features/organizations/api-keys.service.ts';
import type { InvitationsService } from '../features/organizations/invitations.service.ts';
import { mountInvitationAcceptRoutes, mountOrganizationRoutes } from '../features/organizations/organizations.routes.ts';
import type { OrganizationsService } from '../features/organizations/organizations.service.ts';
import { mountTagRoutes } from '../features/tags/tags.routes.ts';
import type { TagsService } from '../features/tags/tags.service.ts';
import { mountWebhookRoutes } from '../features/webhooks/webhooks.routes.ts';
import type { WebhooksService } from '../features/webhooks/webhooks.service.ts';
import type { Database } from '../platform/database.ts';
import { audienceRouter, type Guards } from '../platform/http/api-router.ts';
import type { OpenApiRegistry } from '../platform/http/openapi.ts';
import type { Logger } from '../platform/logger.ts';

/** Where the fleet routes are mounted: the v0.7 paths, and per organization. */
export const FLEET_PREFIXES = ['', '/orgs/:orgId'] as const;

export interface OperatorRouteDeps {
  config: Config;
  db: Database;
  logger: Logger;
  signal: AbortSignal;
  auth: AuthService;
  me: MeService;
  agents: AgentsService;
  tags: TagsService;
  dongles: DonglesService;
  canConfig: CanConfigService;
  commands: CommandService;
  groups: GroupsService;
  firmware: FirmwareService;
  jobs: JobsService;
  orgs: OrganizationsService;
  invitations: InvitationsService;
  apiKeys: ApiKeysService;
  auditReview: AuditReview;
  events: EventsService;
  hub: EventHub;
  webhooks: WebhooksService;
}

export function operatorRoutes(openapi: OpenApiRegistry, guards: Guards, deps: OperatorRouteDeps): express.Router {
  const { config, db, logger } = deps;
  const { router, mount } = audienceRouter(openapi, guards, '');

  mountAuthRoutes(mount('/auth'), { auth: deps.auth, db, config });
  mountMeRoutes(mount('/me'), { me: deps.me, config });

  for (const prefix of FLEET_PREFIXES) {
    mountAgentRoutes(mount(`${prefix}/agents`), { agents: deps.agents });
    const dongles = mount(`${prefix}/dongles`);
    mountTagRoutes(dongles, { tags: deps.tags });
    mountDiscoveredRoutes(dongles, { db });
    mountDongleRoutes(dongles, { dongles: deps.dongles });
    mountCanConfigRoutes(dongles, { canConfig: deps.canConfig });
    mountGroupRoutes(mount(`${prefix}/groups`), { groups: deps.groups });
    mountCommandRoutes({ dongles, commands: mount(`${prefix}/commands`) }, { commands: deps.commands, db, logger, idempotencyKeysPerUser: config.quotas.idempotencyKeysPerUser });
    mountFirmwareRoutes(mount(`${prefix}/firmware`), { firmware: deps.firmware, maxBytes: config.firmware.maxBytes });
    mountJobRoutes(mount(`${prefix}/jobs`), { jobs: deps.jobs });
  }

  const orgs = mount('/orgs');
  mountOrganizationRoutes(orgs, { orgs: deps.orgs, invitations: deps.invitations, apiKeys: deps.apiKeys });
  mountOrgAuditRoutes(orgs, { review: deps.auditReview, logger });
  mountEventRoutes(orgs, {
    db,
    events: deps.events,
    hub: deps.hub,
    signal: deps.signal,
    stream: { heartbeatMs: config.events.heartbeatMs, maxBufferedBytes: config.events.maxBufferedBytes, recheckMs: config.events.recheckMs, perUser: config.events.streamsPerUser },
  });
  mountAlertRoutes(orgs, { db });
  mountWebhookRoutes(orgs, { webhooks: deps.webhooks });
  mountInvitationAcceptRoutes(mount('/invitations'), { invitations: deps.invitations });
  return router;
}
