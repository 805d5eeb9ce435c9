// "Updates live" through the organization's event stream (doc/events.md): one EventSource per
// selected organization; each event invalidates the views it makes stale (event-keys.ts), so
// the pages keep their queries and refetch only what changed. While the stream is down the
// views fall back to polling every few seconds; when it (re)opens every view of the
// organization is refetched once, which closes any gap, and `resync` does the same.
//
// The live indicator shows the stream's real state: "Live" while it is open, "Reconnecting…"
// (and polling) while it is not.
import { useSyncExternalStore } from 'react';
import type { QueryClient } from '@tanstack/react-query';
import { staleViews, type FleetEvent, type Stale } from './event-keys.ts';
import { EVENT_TYPE_NAMES } from './event-types.ts';
import { queryKeys } from './query-keys.ts';

export const LIVE_INTERVAL_MS = 2500;
/** Views showing clock-driven values ("last seen", online within 5 min) refresh this often even while live. */
export const CLOCK_INTERVAL_MS = 30_000;

export type LiveStatus = 'connecting' | 'live' | 'reconnecting';

let status: LiveStatus = 'connecting';
const listeners = new Set<() => void>();
function setStatus(next: LiveStatus) {
  if (next === status) return;
  status = next;
  listeners.forEach((l) => l());
}
const streamUp = () => status === 'live';

export function useLiveStatus(): LiveStatus {
  return useSyncExternalStore(
    (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    () => status,
    () => status,
  );
}

/** Query options for a view that updates live: no polling while the stream is up. */
export const live = { refetchInterval: () => (streamUp() ? false : LIVE_INTERVAL_MS), refetchIntervalInBackground: false } as const;
/** The same for views with clock-driven values: a slow refresh while live (no event says "time passed"). */
export const liveClock = { refetchInterval: () => (streamUp() ? CLOCK_INTERVAL_MS : LIVE_INTERVAL_MS), refetchIntervalInBackground: false } as const;

const BATCH_MS = 200;
const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 30_000;

/**
 * Follows the organization's stream until the returned function is called. Events are batched
 * (200 ms) so a job over hundreds of dongles refetches each view once per batch, not per event.
 */
export function followOrganization(client: QueryClient, orgId: string): () => void {
  let source: EventSource | null = null;
  let lastEventId: string | null = null;
  let reopenTimer: ReturnType<typeof setTimeout> | undefined;
  let flushTimer: ReturnType<typeof setTimeout> | undefined;
  let retryMs = RETRY_MIN_MS;
  let stopped = false;
  const pending = new Map<string, Stale>();

  // Refetch every view of the organization (and the organization list: my role). Also re-arms
  // the views' intervals, which are read again after each fetch.
  const refetchAll = () => {
    void client.invalidateQueries({ queryKey: queryKeys.org(orgId) }, { cancelRefetch: false });
    void client.invalidateQueries({ queryKey: queryKeys.orgs }, { cancelRefetch: false });
  };
  const flush = () => {
    flushTimer = undefined;
    for (const stale of pending.values()) void client.invalidateQueries({ queryKey: stale.queryKey, exact: stale.exact ?? false }, { cancelRefetch: false });
    pending.clear();
  };
  const onEvent = (message: MessageEvent<string>) => {
    if (message.lastEventId) lastEventId = message.lastEventId;
    let event: FleetEvent;
    try {
      event = JSON.parse(message.data) as FleetEvent;
    } catch {
      return;
    }
    for (const stale of staleViews(orgId, event)) pending.set(JSON.stringify(stale), stale);
    flushTimer ??= setTimeout(flush, BATCH_MS);
  };
  const down = () => {
    if (status === 'live') refetchAll(); // polling takes over from here
    setStatus('reconnecting');
  };

  const open = () => {
    if (stopped) return;
    const resume = lastEventId ? `?lastEventId=${encodeURIComponent(lastEventId)}` : '';
    const es = new EventSource(`/api/orgs/${encodeURIComponent(orgId)}/events/stream${resume}`);
    source = es;
    es.onopen = () => {
      retryMs = RETRY_MIN_MS;
      setStatus('live');
      refetchAll();
    };
    es.onerror = () => {
      down();
      // CONNECTING: the browser retries by itself (with Last-Event-ID). CLOSED: it gave up (an
      // HTTP error such as 429 or 503): try again ourselves, backing off.
      if (es.readyState === EventSource.CLOSED) {
        es.close();
        reopenTimer = setTimeout(open, retryMs);
        retryMs = Math.min(retryMs * 2, RETRY_MAX_MS);
      }
    };
    for (const type of EVENT_TYPE_NAMES) es.addEventListener(type, onEvent);
    // The server could not resume (pruned, or this tab read too slowly): reload everything; the
    // browser reconnects from the id the frame carries.
    es.addEventListener('resync', (message) => {
      if (message.lastEventId) lastEventId = message.lastEventId;
      refetchAll();
    });
  };

  setStatus('connecting');
  open();
  return () => {
    stopped = true;
    clearTimeout(reopenTimer);
    clearTimeout(flushTimer);
    source?.close();
    setStatus('connecting');
  };
}
