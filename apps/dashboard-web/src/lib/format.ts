// Small display helpers shared by the pages.
import { REPORT_WINDOW_SECONDS } from '../../../dashboard-api/src/features/dongles/dongle-state.ts';

const relative = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });

/** "12 s ago", "3 min ago", or the date for anything older than a day. */
export function timeAgo(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return 'never';
  const seconds = Math.round((new Date(iso).getTime() - now) / 1000);
  const abs = Math.abs(seconds);
  if (abs < 60) return relative.format(seconds, 'second');
  if (abs < 3600) return relative.format(Math.round(seconds / 60), 'minute');
  if (abs < 86_400) return relative.format(Math.round(seconds / 3600), 'hour');
  return new Date(iso).toLocaleString();
}

export const dateTime = (iso: string | null | undefined) => (iso ? new Date(iso).toLocaleString() : '—');

/** A dongle counts as online when an agent reported it within the API's report window (5 min). */
export const DONGLE_ONLINE_MS = REPORT_WINDOW_SECONDS * 1000;
export const dongleOnline = (lastSeenAt: string | null, now = Date.now()) => lastSeenAt !== null && now - new Date(lastSeenAt).getTime() < DONGLE_ONLINE_MS;

export const stateLabel: Record<string, string> = {
  UNCLAIMED: 'Unclaimed',
  CLAIM_PENDING: 'Claim pending',
  CLAIMED_ACTIVE: 'Active',
  RELEASE_PENDING: 'Release pending',
};

export const shortId = (id: string | null | undefined) => (id ? id.slice(0, 8) : '—');

/** A random key for Idempotency-Key, so a retried click never sends a command twice. */
export function idempotencyKey(): string {
  // randomUUID needs a secure context; getRandomValues works on plain http over a LAN too.
  if (typeof crypto.randomUUID === 'function' && window.isSecureContext) return crypto.randomUUID();
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
}
