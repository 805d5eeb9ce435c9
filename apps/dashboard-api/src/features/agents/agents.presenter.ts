import { isAgentOnline } from './agent-presence.ts';
import type { AgentView } from './agents.schemas.ts';

interface AgentRow {
  id: string;
  name: string;
  hostname: string;
  os: string;
  version: string;
  lastSeenAt: Date | null;
  createdAt: Date;
}

/** The only shape an agent leaves the API in: no owner id, no token data. */
export function presentAgent(agent: AgentRow, pollIntervalMs: number, now = new Date()): AgentView {
  return {
    id: agent.id,
    name: agent.name,
    hostname: agent.hostname,
    os: agent.os,
    version: agent.version,
    lastSeenAt: agent.lastSeenAt?.toISOString() ?? null,
    online: isAgentOnline(agent.lastSeenAt, pollIntervalMs, now),
    createdAt: agent.createdAt.toISOString(),
  };
}
