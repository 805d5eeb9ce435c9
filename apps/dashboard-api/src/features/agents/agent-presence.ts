// Agent liveness. An agent is `online` while it polled or sent a heartbeat within twice the
// poll interval (§5). To avoid one database write per request, last_seen_at is only written
// when it is older than half the poll interval (or the reported version changed): the stored
// value then lags reality by less than one interval, so `online` stays correct.
import { Prisma } from '../../generated/prisma/client.ts';
import type { AgentPrincipal } from '../auth/principal.ts';

type RawClient = { $executeRaw(query: Prisma.Sql): Prisma.PrismaPromise<number> };

/** How stale last_seen_at may get before a request writes it again. */
export const lastSeenThrottleMs = (pollIntervalMs: number) => Math.floor(pollIntervalMs / 2);

export function isAgentOnline(lastSeenAt: Date | null, pollIntervalMs: number, now = new Date()): boolean {
  return lastSeenAt !== null && now.getTime() - lastSeenAt.getTime() <= 2 * pollIntervalMs;
}

export interface TouchOptions {
  /** config.agentPollIntervalMs */
  pollIntervalMs: number;
  /** The agent's software version, when the request reports one (heartbeat). */
  version?: string;
}

/**
 * Marks the agent (and the token it used) as seen now. Called by the heartbeat and by the
 * command long-poll. Skips the database entirely when the guard's lastSeenAt is recent and the
 * reported version (if any) equals the one the guard read; otherwise one conditional statement, which also writes nothing when
 * another request got there first. Returns true when a row was written.
 */
export async function touchAgentLastSeen(client: RawClient, agent: AgentPrincipal, options: TouchOptions): Promise<boolean> {
  const throttleMs = lastSeenThrottleMs(options.pollIntervalMs);
  const recent = agent.lastSeenAt !== null && Date.now() - agent.lastSeenAt.getTime() < throttleMs;
  if (recent && (options.version === undefined || options.version === agent.version)) return false;
  const version = options.version ?? null;
  const written = await client.$executeRaw(Prisma.sql`
    WITH seen AS (
      UPDATE agents
      SET last_seen_at = now(), version = COALESCE(${version}, version), updated_at = now()
      WHERE id = ${agent.id}::uuid AND revoked_at IS NULL
        AND (last_seen_at IS NULL
             OR last_seen_at < now() - make_interval(secs => ${throttleMs / 1000})
             OR (${version}::text IS NOT NULL AND version IS DISTINCT FROM ${version}))
      RETURNING id
    )
    UPDATE agent_tokens SET last_used_at = now()
    WHERE id = ${agent.tokenId}::uuid AND EXISTS (SELECT 1 FROM seen)`);
  return written > 0;
}
