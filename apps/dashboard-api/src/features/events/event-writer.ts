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
//  4. NOTIFY fleet_events with only the event id (delivered at commit; streams read the table).
import { sql, type Db } from '../../platform/database.ts';
import { scrubSecrets } from '../../platform/audit/scrub-secrets.ts';
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

export const INSERT_EVENT_SQL = `
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
),
notified AS (SELECT pg_notify('${EVENTS_CHANNEL}', ev.id::text) FROM ev)
SELECT ev.id::text AS id FROM ev, notified`;

/** Appends one event inside the caller's transaction; returns its id. */
export async function recordEvent(client: Db, event: NewEvent): Promise<bigint> {
  const params = [event.organizationId, event.type, EVENT_TYPES[event.type], event.subjectId, JSON.stringify(scrubSecrets(event.data ?? {}))];
  const rows = await sql<{ id: string }>(client, INSERT_EVENT_SQL, params);
  return BigInt(rows[0]!.id);
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
