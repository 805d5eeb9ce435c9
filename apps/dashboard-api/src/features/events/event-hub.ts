// Fans new events out to this instance's open streams with one query per wake-up, whatever the
// number of streams (2,000 streams on one organization cost one index scan, not 2,000).
//
// It keeps, per organization that has at least one open stream here, the highest id it has
// dispatched. A NOTIFY on fleet_events (any instance's commit; payload: the event id only)
// schedules one fetch of every such organization's newer events (a LATERAL join over the
// cursors); wake-ups during a fetch coalesce into one more fetch. Because an organization's events
// commit in id order (event-writer.ts), `id > cursor` never skips one. When the shared LISTEN
// connection drops, the hub polls every `fallbackPollMs` until it is back, then fetches once;
// while it is up, it still fetches every fifth tick, as a safety net for a NOTIFY sent after a
// commit that never came (announceEvents).
import type { Database } from '../../platform/database.ts';
import type { BackgroundWorker } from '../../platform/lifecycle.ts';
import type { Logger } from '../../platform/logger.ts';
import { EVENTS_CHANNEL } from '../../platform/events/event-writer.ts';

/**
 * The instance's one LISTEN connection, shared with other features (the commands feature's
 * CommandNotifier, handed in by app.ts).
 */
export interface NotificationListener {
  /** Calls `handler` with the payload of every NOTIFY on `channel`; returns the unsubscribe. */
  listen(channel: string, handler: (payload: string) => void): () => void;
  /** Called after every (re)connect: notifications sent while disconnected are gone. */
  onReconnect(handler: () => void): () => void;
  readonly isListening: boolean;
}

export interface EventRow {
  id: string;
  organizationId: string;
  type: string;
  subjectType: string;
  subjectId: string;
  data: Record<string, unknown>;
  createdAt: Date;
}

export interface EventSubscriber {
  /** Rows of the subscriber's organization, ascending, each delivered once. */
  deliver(rows: readonly EventRow[]): void;
}

/** The columns of an EventRow. Sort by `events.id` (qualified): the bare `id` here is text. */
export const EVENT_COLUMNS = `id::text AS id, organization_id::text AS "organizationId", type, subject_type AS "subjectType",
  subject_id AS "subjectId", data, created_at AS "createdAt"`;

const PAGE = 1000;
/** Fallback ticks between catch-up fetches while the LISTEN connection is up (5 s by default). */
const CATCH_UP_TICKS = 5;

const FETCH_SQL = `
SELECT e.* FROM unnest($1::uuid[], $2::bigint[]) AS c(org, after)
CROSS JOIN LATERAL (
  SELECT ${EVENT_COLUMNS}, events.id AS seq FROM events
   WHERE organization_id = c.org AND events.id > c.after
   ORDER BY events.id LIMIT ${PAGE}
) e
ORDER BY e.seq`;

interface OrgState {
  cursor: bigint;
  subscribers: Set<EventSubscriber>;
}

export class EventHub implements BackgroundWorker {
  readonly name = 'event-hub';
  private readonly orgs = new Map<string, OrgState>();
  private fetching: Promise<void> | undefined;
  private again = false;
  private fallback: NodeJS.Timeout | undefined;
  private unlisten: Array<() => void> = [];
  private readonly extraListeners = new Set<(eventId: bigint) => void>();

  constructor(
    private readonly deps: { db: Database; listener: NotificationListener; logger: Logger; fallbackPollMs?: number },
  ) {}

  start(): void {
    this.unlisten = [
      this.deps.listener.listen(EVENTS_CHANNEL, (payload) => {
        for (const listener of this.extraListeners) listener(BigInt(payload || '0'));
        this.wake();
      }),
      this.deps.listener.onReconnect(() => this.wake()),
    ];
    // While listening, a catch-up every CATCH_UP_TICKS: the hot paths NOTIFY after their commit
    // (announceEvents), so an instance that dies in between leaves events no NOTIFY announced.
    let ticks = 0;
    this.fallback = setInterval(() => {
      if (!this.deps.listener.isListening || ++ticks % CATCH_UP_TICKS === 0) this.wake();
    }, this.deps.fallbackPollMs ?? 1_000);
    this.fallback.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.fallback);
    for (const off of this.unlisten) off();
    await this.fetching?.catch(() => undefined);
  }

  /** Other in-process consumers of "an event was committed" (the webhook worker). */
  onEvent(listener: (eventId: bigint) => void): () => void {
    this.extraListeners.add(listener);
    return () => this.extraListeners.delete(listener);
  }

  /**
   * Subscribes to the organization's events committed after this call returns. Returns the
   * organization's head (the highest id at subscription) and an unsubscribe function.
   */
  async subscribe(orgId: string, subscriber: EventSubscriber): Promise<{ head: bigint; unsubscribe: () => void }> {
    let state = this.orgs.get(orgId);
    if (!state) {
      const { rows } = await this.deps.db.pool.query<{ head: string }>(
        'SELECT COALESCE(max(id), 0)::text AS head FROM events WHERE organization_id = $1::uuid',
        [orgId],
      );
      // Another subscribe may have created it meanwhile; its cursor is then at least as recent.
      state = this.orgs.get(orgId);
      if (!state) this.orgs.set(orgId, (state = { cursor: BigInt(rows[0]!.head), subscribers: new Set() }));
    }
    state.subscribers.add(subscriber);
    const org = state;
    return {
      head: org.cursor,
      unsubscribe: () => {
        org.subscribers.delete(subscriber);
        if (org.subscribers.size === 0 && this.orgs.get(orgId) === org) this.orgs.delete(orgId);
      },
    };
  }

  /** Open subscriptions in this process (tests, metrics). */
  get subscriberCount(): number {
    let count = 0;
    for (const state of this.orgs.values()) count += state.subscribers.size;
    return count;
  }

  /** Fetch now (or once more after the fetch in progress). */
  wake(): void {
    if (this.fetching) {
      this.again = true;
      return;
    }
    this.fetching = this.fetchLoop().finally(() => (this.fetching = undefined));
  }

  private async fetchLoop(): Promise<void> {
    do {
      this.again = false;
      try {
        const more = await this.fetchOnce();
        if (more) this.again = true;
      } catch (error) {
        this.deps.logger.warn({ err: (error as Error).message }, 'event fetch failed; retrying on the next wake-up');
        return;
      }
    } while (this.again);
  }

  /** Returns true when an organization had a full page (more to read). */
  private async fetchOnce(): Promise<boolean> {
    if (this.orgs.size === 0) return false;
    const ids = [...this.orgs.keys()];
    const cursors = ids.map((id) => this.orgs.get(id)!.cursor.toString());
    const { rows } = await this.deps.db.pool.query<EventRow>(FETCH_SQL, [ids, cursors]);
    const byOrg = new Map<string, EventRow[]>();
    for (const row of rows) {
      let list = byOrg.get(row.organizationId);
      if (!list) byOrg.set(row.organizationId, (list = []));
      list.push(row);
    }
    let more = false;
    for (const [orgId, list] of byOrg) {
      const state = this.orgs.get(orgId);
      if (!state) continue;
      const fresh = list.filter((row) => BigInt(row.id) > state.cursor);
      if (fresh.length === 0) continue;
      state.cursor = BigInt(fresh[fresh.length - 1]!.id);
      if (list.length >= PAGE) more = true;
      for (const subscriber of state.subscribers) subscriber.deliver(fresh);
    }
    return more;
  }
}
