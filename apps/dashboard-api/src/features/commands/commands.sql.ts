// The command queue's statements that run on the bare pg pool or on any `Db` (doc/architecture.md,
// "Data access"): the agent's hand-out and result post (hot paths, doc/benchmarks.md) and the
// two timers. The service, the sweeper and the benches (bench/baseline/server.ts,
// commands-scale, hand-out-shape, event-write-cost) all import them from here, so a bench runs
// exactly the text the app runs. Each is one typed definition: `run(db, STATEMENT, params)`.
import type { Command } from '../../generated/prisma/client.ts';
import { statement, type TableRow } from '../../platform/database.ts';
import { eventCtes } from '../../platform/events/event-writer.ts';
import { COMMANDABLE_STATE_SQL, reportedRecentlySql } from '../dongles/dongle-state.ts';
import { activeUserSql } from '../auth/user-status.ts';
import type { AgentPrincipal } from '../auth/principal.ts';
import { overdueSql, statusIs, statusTo, timerRunningSql } from './command-lifecycle.ts';

/** A `commands` row as `SELECT *` / `RETURNING *` gives it (Prisma's Command, snake_case). */
export type CommandRow = TableRow<Command>;

/** The sweeper's batch size. */
export const SWEEP_BATCH = 500;

type ClaimParams = [agentId: string, organizationId: string, limit: number, tokenId: string];

/**
 * One statement: pick the next commands with row locks, skipping rows another poll holds, mark
 * them DELIVERED and record their command.delivered events (the event writer's CTEs), so the
 * hand-out and its events commit together without BEGIN/COMMIT. With nothing pending it matches
 * no row, takes no lock and writes nothing: an idle poll is one round trip. The NOTIFY for the
 * event streams is sent after it (announceEvents), so hand-outs do not serialise on it.
 * Served by dongles(last_seen_agent_id) and the partial index commands_queued_by_dongle; the
 * liveness check is uncorrelated, so it runs once per statement (three primary-key lookups).
 * Named, so each pool connection plans this long statement once, not on every poll.
 * Parameters: claimParams().
 */
export const CLAIM = statement<ClaimParams, CommandRow & { device_id: string }>(`
WITH picked AS (
  SELECT q.id, d.device_id
    FROM dongles d
    JOIN commands q ON q.dongle_id = d.id
   WHERE d.last_seen_agent_id = $1
     AND d.organization_id = $2
     AND q.organization_id = d.organization_id
     AND d.ownership_state = ${COMMANDABLE_STATE_SQL}
     AND ${reportedRecentlySql('d')}
     AND ${statusIs('deliver', 'q.status')}
     AND ${timerRunningSql('expire', 'q')}
     AND q.created_at >= d.owned_since
     AND EXISTS (SELECT 1 FROM agent_tokens t JOIN agents a ON a.id = t.agent_id JOIN users u ON u.id = a.user_id
                  WHERE t.id = $4 AND a.id = $1 AND a.organization_id = $2
                    AND t.revoked_at IS NULL AND a.revoked_at IS NULL AND ${activeUserSql('u')})
   ORDER BY q.created_at, q.id
   LIMIT $3
   FOR UPDATE OF q SKIP LOCKED
), delivered AS (
  UPDATE commands c
     SET status = ${statusTo('deliver')}, agent_id = $1, delivered_at = now(), updated_at = now()
    FROM picked
   WHERE c.id = picked.id
  RETURNING c.*, picked.device_id
), delivered_events AS (
  SELECT organization_id, id::text AS subject_id, jsonb_build_object('dongleId', dongle_id, 'type', type, 'agentId', $1::text) AS data
    FROM delivered ORDER BY created_at, id
), ${eventCtes('delivered_events', 'command.delivered', { notify: false }).trimStart()}
SELECT * FROM delivered WHERE (SELECT count(*) FROM ev_notified) >= 0 ORDER BY created_at, id`, 'agent-claim');

/** CLAIM's parameters, in order: the agent, its organization, the batch size, the poll's token. */
export function claimParams(agent: Pick<AgentPrincipal, 'id' | 'organizationId' | 'tokenId'>, limit: number): ClaimParams {
  return [agent.id, agent.organizationId, limit, agent.tokenId];
}

/**
 * Records an agent's result in one statement when the command is still DELIVERED to it and
 * within its execution timeout; otherwise no row, and RESULT_REFUSED explains why.
 * Parameters: the command, the agent, the status, the result as JSON text, the error.
 */
export const RESULT = statement<[commandId: string, agentId: string, status: 'SUCCEEDED' | 'FAILED', resultJson: string | null, error: string | null], CommandRow>(`
UPDATE commands
   SET status = $3::command_status, result = $4::jsonb, error = $5, completed_at = now(), updated_at = now()
 WHERE id = $1 AND agent_id = $2 AND ${statusIs('complete')}
   AND ${timerRunningSql('time_out')}
RETURNING *`);

/** Why RESULT matched nothing: the command, locked, and whether its execution timeout has passed. */
export const RESULT_REFUSED = statement<[commandId: string], CommandRow & { overdue: boolean }>(
  `SELECT *, ${overdueSql('time_out')} AS overdue FROM commands WHERE id = $1 FOR UPDATE`,
);

/** An APPLY_CAN_CONFIG success: applied_version only moves up, and never past the version that exists. */
export const CONFIG_APPLIED = statement<[dongleId: string, version: number], { dongle_id: string }>(
  `UPDATE can_configs SET applied_version = $2, updated_at = now() WHERE dongle_id = $1 AND applied_version < $2 AND version >= $2 RETURNING dongle_id::text`,
);

/** What the timers return for each command they change (audit row, event, metric). */
export type TransitionRow = Pick<CommandRow, 'id' | 'dongle_id' | 'type' | 'organization_id'>;

// The ORDER BY (and the redundant 1-second bound, the shortest timeout) steer both batch scans
// onto the (status, expires_at) and (status, delivered_at) indexes, oldest first.
const expireSql = (ids: string) => `
UPDATE commands SET status = ${statusTo('expire')}, error = 'not picked up within its TTL', completed_at = now(), updated_at = now()
 WHERE id IN (${ids})
   AND ${statusIs('expire')} AND ${overdueSql('expire')}
RETURNING id, dongle_id, type, organization_id`;

const timeOutSql = (ids: string) => `
UPDATE commands SET status = ${statusTo('time_out')}, error = 'no result within the execution timeout', completed_at = now(), updated_at = now()
 WHERE id IN (${ids})
   AND ${statusIs('time_out')} AND ${overdueSql('time_out')}
RETURNING id, dongle_id, type, organization_id`;

/** One sweeper batch of overdue QUEUED commands → EXPIRED. */
export const EXPIRE_BATCH = statement<[], TransitionRow>(expireSql(`SELECT id FROM commands WHERE ${statusIs('expire')} AND ${overdueSql('expire')}
              ORDER BY expires_at LIMIT ${SWEEP_BATCH} FOR UPDATE SKIP LOCKED`));

/** One sweeper batch of overdue DELIVERED commands → TIMED_OUT. */
export const TIME_OUT_BATCH = statement<[], TransitionRow>(timeOutSql(`SELECT id FROM commands
               WHERE ${statusIs('time_out')} AND ${overdueSql('time_out')}
                 AND delivered_at <= now() - interval '1 second'
               ORDER BY delivered_at LIMIT ${SWEEP_BATCH} FOR UPDATE SKIP LOCKED`));

/** One command → EXPIRED if it is overdue (a cancel that finds it so). */
export const EXPIRE_ONE = statement<[commandId: string], TransitionRow>(expireSql('$1::uuid'));

/** One command → TIMED_OUT if it is overdue (a late result). */
export const TIME_OUT_ONE = statement<[commandId: string], TransitionRow>(timeOutSql('$1::uuid'));
