// The agent API: desktop agents with their bearer token, under /api/agent. app.ts mounts this
// router before the session middleware, so no agent request ever loads a cookie session; a path
// not answered here is a 404 here. Every path:
//
//   POST /enroll, /heartbeat, /token/rotate             features/agents (agents.routes.ts)
//   POST /dongles/:deviceId/token, /token/ack,
//        /dongles/:deviceId/release/ack                 features/dongles (dongles.routes.ts)
//   GET  /commands, POST /commands/:id/result           features/commands (agent-commands.routes.ts)
//   GET  /firmware/:imageId                             features/firmware (firmware.feature.ts)
import type express from 'express';
import type { Config } from '../config.ts';
import { mountAgentApiRoutes } from '../features/agents/agents.routes.ts';
import type { AgentsService } from '../features/agents/agents.service.ts';
import { mountAgentCommandRoutes } from '../features/commands/agent-commands.routes.ts';
import type { createAgentCommandService } from '../features/commands/agent-commands.service.ts';
import type { DongleTokensService } from '../features/dongles/dongle-tokens.service.ts';
import { mountDongleAgentRoutes } from '../features/dongles/dongles.routes.ts';
import { mountAgentFirmwareRoutes } from '../features/firmware/firmware.feature.ts';
import type { FirmwareService } from '../features/firmware/firmware.service.ts';
import type { Database } from '../platform/database.ts';
import { audienceRouter, type Guards } from '../platform/http/api-router.ts';
import { routeNotFound } from '../platform/http/error-handler.ts';
import type { OpenApiRegistry } from '../platform/http/openapi.ts';
import type { Lifecycle } from '../platform/lifecycle.ts';

/** Where app.ts mounts this router, under /api. */
export const AGENT_BASE = '/agent';

export interface AgentRouteDeps {
  config: Config;
  db: Database;
  lifecycle: Lifecycle;
  agents: AgentsService;
  dongleTokens: DongleTokensService;
  agentCommands: ReturnType<typeof createAgentCommandService>;
  firmware: FirmwareService;
}

export function agentRoutes(openapi: OpenApiRegistry, guards: Guards, deps: AgentRouteDeps): express.Router {
  const { router, mount } = audienceRouter(openapi, guards, AGENT_BASE);
  const agent = mount('');
  mountAgentApiRoutes(agent, { agents: deps.agents, db: deps.db, config: deps.config });
  mountDongleAgentRoutes(agent, { tokens: deps.dongleTokens });
  mountAgentCommandRoutes(agent, { agentCommands: deps.agentCommands, lifecycle: deps.lifecycle });
  mountAgentFirmwareRoutes(agent, { firmware: deps.firmware });
  // Unknown agent paths end here, so they never reach the session middleware either.
  router.use(routeNotFound);
  return router;
}
