// Fleet gauges, read when Prometheus scrapes /metrics. Those from the database come from one
// statement of small counts (each served by an index, or over the agents and dongles tables),
// cached for a few seconds so frequent scrapes or several Prometheus servers cost one round
// trip. The in-process ones (pool, long-polls, LISTEN) are read directly.
import type { Database } from '../../platform/database.ts';
import type { Logger } from '../../platform/logger.ts';
import { cachedSource, gaugeOnScrape, type Metrics } from '../../platform/metrics.ts';
import { reportedRecentlySql } from '../dongles/dongle-state.ts';

export interface FleetMetricSources {
  db: Database;
  logger: Logger;
  /** The command notifier: polls waiting in this process, and its LISTEN connection. */
  notifier: { readonly waiting: number; readonly backendPid: number | undefined };
  /** config.agentPollIntervalMs: an agent is online when seen within twice this. */
  agentPollIntervalMs: number;
  cacheMs?: number;
}

/**
 * Queue depth by status (partial index on QUEUED, (status, delivered_at) for DELIVERED), agents
 * and dongles online (same rules as the API: agent seen within twice the poll interval, dongle
 * reported within the 5-minute hand-out window) and the email outbox by status.
 */
export const FLEET_GAUGES_SQL = `
SELECT
  (SELECT count(*) FROM commands WHERE status = 'QUEUED')::int AS queued,
  (SELECT count(*) FROM commands WHERE status = 'DELIVERED')::int AS delivered,
  (SELECT count(*) FROM agents WHERE revoked_at IS NULL AND last_seen_at > now() - make_interval(secs => $1 / 1000.0))::int AS agents_online,
  (SELECT count(*) FROM dongles d WHERE ${reportedRecentlySql('d')})::int AS dongles_online,
  (SELECT count(*) FROM email_outbox WHERE status = 'PENDING')::int AS email_pending,
  (SELECT count(*) FROM email_outbox WHERE status = 'FAILED')::int AS email_failed`;

interface FleetRow {
  queued: number;
  delivered: number;
  agents_online: number;
  dongles_online: number;
  email_pending: number;
  email_failed: number;
}

export function registerFleetGauges(metrics: Metrics, sources: FleetMetricSources): void {
  const { registry } = metrics;
  const { db, notifier } = sources;
  const load = cachedSource(async () => (await db.pool.query<FleetRow>(FLEET_GAUGES_SQL, [2 * sources.agentPollIntervalMs])).rows[0]!, sources.cacheMs ?? 5_000);
  // A failed read leaves the gauges out of this scrape (Prometheus marks them stale) rather than
  // failing the whole scrape or reporting a made-up zero.
  const fromDb = (pick: (row: FleetRow) => number) => async () => {
    try {
      return pick(await load());
    } catch (error) {
      sources.logger.warn({ err: (error as Error).message }, 'fleet metrics: database read failed');
      return undefined;
    }
  };

  gaugeOnScrape(registry, { name: 'fleet_commands_queue_depth', help: 'Commands waiting for an agent (QUEUED) or for its result (DELIVERED)', labelNames: ['status'] }, async () => {
    const queued = await fromDb((row) => row.queued)();
    const delivered = await fromDb((row) => row.delivered)();
    if (queued === undefined || delivered === undefined) return undefined;
    return [
      { labels: { status: 'QUEUED' }, value: queued },
      { labels: { status: 'DELIVERED' }, value: delivered },
    ];
  });
  gaugeOnScrape(registry, { name: 'fleet_agents_online', help: 'Agents seen within twice the poll interval' }, fromDb((row) => row.agents_online));
  gaugeOnScrape(registry, { name: 'fleet_dongles_online', help: 'Dongles an agent reported within the last 5 minutes' }, fromDb((row) => row.dongles_online));
  gaugeOnScrape(registry, { name: 'fleet_email_outbox_backlog', help: 'Emails waiting to be sent (PENDING)' }, fromDb((row) => row.email_pending));
  gaugeOnScrape(registry, { name: 'fleet_email_outbox_failed', help: 'Emails the sender gave up on (FAILED)' }, fromDb((row) => row.email_failed));

  gaugeOnScrape(registry, { name: 'fleet_agent_long_polls_waiting', help: 'Agent long-polls waiting for a command in this process' }, () => notifier.waiting);
  gaugeOnScrape(registry, { name: 'fleet_command_listener_up', help: '1 while the LISTEN connection for command wake-ups is up, else 0' }, () => (notifier.backendPid === undefined ? 0 : 1));
  gaugeOnScrape(registry, { name: 'fleet_db_pool_connections', help: 'Connections the pg pool holds (busy and idle)' }, () => db.pool.totalCount);
  gaugeOnScrape(registry, { name: 'fleet_db_pool_idle_connections', help: 'Idle connections in the pg pool' }, () => db.pool.idleCount);
  gaugeOnScrape(registry, { name: 'fleet_db_pool_waiting_requests', help: 'Queries waiting for a pool connection' }, () => db.pool.waitingCount);
}
