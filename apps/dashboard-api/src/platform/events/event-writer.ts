// The one writer of the event log. Call it with the transaction of the change the event
// describes (a Prisma `tx` or a raw pg client), so the event exists exactly when the change
// committed — like recordAudit, but a different log for different readers: the audit log
// answers "who did what" for administrators (actor, IP, result, kept for compliance); events
// say "what happened to the fleet" to dashboards and integrations (no actor, no IP, short
// retention, streamed). They share the secret scrubber, not the table or the module.
//
// One statement does four things, in this order:
//  1. pg_advisory_xact_lock on the organization, held until commit. Event ids come from one
//     sequence, and a sequence hands out ids in call order, not commit order; with the lock, an
//     organization's events commit in id order, so a reader that has seen id N of an
//     organization can never later find a smaller id of it appearing (no gap on resume).
//  2. the event row;
//  3. one webhook delivery per enabled webhook of the organization that wants this type
//     (the outbox of the webhooks feature: created with the event, so none is lost);
//  4. NOTIFY fleet_events with only the event id (delivered at commit; streams read the table),
//     or, on the hot paths, one coalesced NOTIFY after the commit (announceEvents).
import type pg from 'pg';
import { sql, type Db } from '../database.ts';
import { scrubSecrets } from '../audit/scrub-secrets.ts';
import { EVENT_TYPES, type EventType } from './event-types.ts';

export const EVENTS_CHANNEL = 'fleet_events';
/** First key of the two-key advisory lock (the second is the organization's hash). */
export const EVENT_LOCK_CLASS = 7013;

export interface NewEvent {
  organizationId: string;
  type: EventType;
  subjectId: string;
  data?: Record<string, unknown>;
}

function insertEventSql(notify: boolean): string {
  return `
WITH locked AS (SELECT pg_advisory_xact_lock(${EVENT_LOCK_CLASS}, hashtext($1::text)) AS ok),
ev AS (
  INSERT INTO events (organization_id, type, subject_type, subject_id, data)
  SELECT $1::uuid, $2, $3, $4, $5::jsonb FROM locked
  RETURNING id, created_at
),
deliveries AS (
  INSERT INTO webhook_deliveries (webhook_id, event_id, event_type, payload)
  SELECT w.id, ev.id, $2,
         json_build_object('id', ev.id::text, 'type', $2, 'timestamp', ev.created_at, 'organizationId', $1::text,
                           'subject', json_build_object('type', $3, 'id', $4), 'data', $5::jsonb)::text
    FROM webhooks w CROSS JOIN ev
   WHERE w.organization_id = $1::uuid AND w.enabled AND (cardinality(w.event_types) = 0 OR $2 = ANY (w.event_types))
)${notify ? `,
notified AS (SELECT pg_notify('${EVENTS_CHANNEL}', ev.id::text) FROM ev)
SELECT ev.id::text AS id FROM ev, notified` : `
SELECT ev.id::text AS id FROM ev`}`;
}

export const INSERT_EVENT_SQL = insertEventSql(true);
/** Steps 1–3 only: the caller announces after its commit (announceEvents). */
const INSERT_EVENT_QUIET_SQL = insertEventSql(false);

/**
 * The same four steps as CTEs, for a statement that changes rows and records their events in
 * that one statement: one round trip, and atomic without BEGIN/COMMIT (the agent hand-out, run
 * by every poll, idle or not). `source` names an earlier CTE of the statement with the columns
 * organization_id (uuid), subject_id (text) and data (jsonb, built in SQL: it does not pass the
 * scrubber, so it must hold no secret); each of its rows becomes one `type` event, in its order.
 * The organizations' locks are taken in one order (as recordEvents does) before any event id is
 * drawn, and only when `source` has rows: an empty source locks and writes nothing. One NOTIFY
 * (the highest id) per statement, or none with `notify: false` (then announceEvents after it). The statement's main query must read `<prefix>_notified`
 * (e.g. `WHERE (SELECT count(*) FROM ev_notified) >= 0`): a plain SELECT CTE that nothing reads
 * does not run.
 */
export function eventCtes(source: string, type: EventType, options: { prefix?: string; notify?: boolean } = {}): string {
  const prefix = options.prefix ?? 'ev';
  const literal = (value: string) => {
    if (!/^[a-z_.]+$/.test(value)) throw new Error(`unexpected event type ${value}`);
    return `'${value}'`;
  };
  const eventType = literal(type);
  const subjectType = literal(EVENT_TYPES[type]);
  return `
${prefix}_locked AS (
  SELECT count(pg_advisory_xact_lock(${EVENT_LOCK_CLASS}, hashtext(o.organization_id::text))) AS n
    FROM (SELECT DISTINCT organization_id FROM ${source} ORDER BY organization_id) o
),
${prefix}_rows AS (
  INSERT INTO events (organization_id, type, subject_type, subject_id, data)
  SELECT s.organization_id, ${eventType}, ${subjectType}, s.subject_id, s.data FROM ${source} s CROSS JOIN ${prefix}_locked
  RETURNING id, organization_id, subject_id, data, created_at
),
${prefix}_deliveries AS (
  INSERT INTO webhook_deliveries (webhook_id, event_id, event_type, payload)
  SELECT w.id, e.id, ${eventType},
         json_build_object('id', e.id::text, 'type', ${eventType}, 'timestamp', e.created_at, 'organizationId', e.organization_id::text,
                           'subject', json_build_object('type', ${subjectType}, 'id', e.subject_id), 'data', e.data)::text
    FROM ${prefix}_rows e JOIN webhooks w ON w.organization_id = e.organization_id
   WHERE w.enabled AND (cardinality(w.event_types) = 0 OR ${eventType} = ANY (w.event_types))
),
${prefix}_notified AS (SELECT ${options.notify === false ? 'max(id)' : `pg_notify('${EVENTS_CHANNEL}', max(id)::text)`} FROM ${prefix}_rows HAVING count(*) > 0)`;
}

/**
 * Appends one event inside the caller's transaction; returns its id. With `notify: false` the
 * NOTIFY is left out and the caller calls announceEvents() after its COMMIT (see there).
 */
export async function recordEvent(client: Db, event: NewEvent, options: { notify?: boolean } = {}): Promise<bigint> {
  const params = [event.organizationId, event.type, EVENT_TYPES[event.type], event.subjectId, JSON.stringify(scrubSecrets(event.data ?? {}))];
  const rows = await sql<{ id: string }>(client, options.notify === false ? INSERT_EVENT_QUIET_SQL : INSERT_EVENT_SQL, params);
  return BigInt(rows[0]!.id);
}

const announcing = new WeakMap<pg.Pool, { again: boolean }>();

/**
 * NOTIFY fleet_events after the caller's transaction committed, for the hot paths (the agent's
 * hand-out and result post). PostgreSQL serialises the commits of every transaction that sent a
 * NOTIFY (one global lock from pre-commit to the end of commit), so a NOTIFY inside each result
 * transaction made them commit one at a time; this sends one small NOTIFY of its own, coalesced
 * per pool (while one is in flight, any number of calls make one more). The payload is empty:
 * the hub reads every organization's newer events on any wake-up, so nothing depends on it. If
 * the process dies between the COMMIT and this, the events are in the table and streams get them
 * at the next wake-up of their hub, at the latest its periodic catch-up (event-hub.ts); resume
 * is unaffected (it reads the table).
 */
export function announceEvents(pool: pg.Pool): void {
  const state = announcing.get(pool);
  if (state) {
    state.again = true;
    return;
  }
  const mine = { again: false };
  announcing.set(pool, mine);
  void (async () => {
    do {
      mine.again = false;
      await pool.query(`SELECT pg_notify('${EVENTS_CHANNEL}', '')`).catch(() => undefined);
    } while (mine.again);
    announcing.delete(pool);
  })();
}

/**
 * Several events of one transaction, grouped by organization in one fixed order. Each event takes
 * its organization's lock until commit; two transactions that each touch several organizations
 * (two instances' sweepers, presence passes, lapses) must take those locks in the same order or
 * they deadlock. Use this, not a loop over recordEvent, whenever the events may span organizations.
 */
export async function recordEvents(client: Db, events: readonly NewEvent[]): Promise<void> {
  const ordered = [...events].sort((a, b) => (a.organizationId < b.organizationId ? -1 : a.organizationId > b.organizationId ? 1 : 0));
  for (const event of ordered) await recordEvent(client, event);
}
