// "Updates live", for now by polling: the fleet and command views refetch every few seconds
// while the tab is visible (TanStack Query stops interval refetches in hidden tabs). The live
// indicator reports what is really happening: "polling", "reconnecting" after a failed refetch
// (network down, server restarting), "paused" while the tab is hidden.
//
// When the event stream lands, a stream handler calls queryClient.invalidateQueries() with the
// keys in queryKeys (lib/query-keys.ts) and sets the status here from the stream's state; the
// views keep their queries and drop the interval.
import { useSyncExternalStore } from 'react';
import type { QueryClient } from '@tanstack/react-query';
import { ApiError } from './api.ts';

export const LIVE_INTERVAL_MS = 2500;

export type LiveStatus = 'polling' | 'reconnecting' | 'paused';

let failing = false;
let hidden = typeof document !== 'undefined' && document.visibilityState === 'hidden';
const listeners = new Set<() => void>();
const emit = () => listeners.forEach((l) => l());

function snapshot(): LiveStatus {
  if (hidden) return 'paused';
  return failing ? 'reconnecting' : 'polling';
}

/** Watches every query: a refetch the server could not answer marks the connection as failing. */
export function trackLiveStatus(client: QueryClient): () => void {
  const onVisibility = () => {
    hidden = document.visibilityState === 'hidden';
    emit();
  };
  document.addEventListener('visibilitychange', onVisibility);
  const unsubscribe = client.getQueryCache().subscribe((event) => {
    if (event.type !== 'updated') return;
    const { action } = event;
    if (action.type === 'success' && failing) {
      failing = false;
      emit();
    } else if (action.type === 'error') {
      const error = action.error;
      const unreachable = !(error instanceof ApiError) || error.status === 0 || error.status >= 500;
      if (unreachable !== failing) {
        failing = unreachable;
        emit();
      }
    }
  });
  return () => {
    document.removeEventListener('visibilitychange', onVisibility);
    unsubscribe();
  };
}

export function useLiveStatus(): LiveStatus {
  return useSyncExternalStore(
    (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    snapshot,
    snapshot,
  );
}

/** Query options for a view that updates live. */
export const live = { refetchInterval: LIVE_INTERVAL_MS, refetchIntervalInBackground: false } as const;
