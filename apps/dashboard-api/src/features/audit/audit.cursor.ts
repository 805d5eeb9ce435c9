// The opaque keyset cursor of the audit list: base64url of "<created_at>|<id>", where created_at
// is the row's exact timestamp in microseconds (PostgreSQL's precision; a JavaScript Date would
// round it to milliseconds and skip or repeat rows that share a millisecond).

import { isRealTimestamp } from '../../platform/pagination.ts';

export interface AuditPosition {
  /** ISO 8601 UTC with six fractional digits, as the repository selects it. */
  createdAt: string;
  id: string;
}

const EXACT_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function encodeCursor(position: AuditPosition): string {
  return Buffer.from(`${position.createdAt}|${position.id}`, 'utf8').toString('base64url');
}

/** The position, or undefined when the text is not a cursor this service issued. */
export function decodeCursor(cursor: string): AuditPosition | undefined {
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(cursor)) return undefined;
  const [createdAt, id, ...rest] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  if (rest.length > 0 || !createdAt || !id) return undefined;
  if (!EXACT_TIMESTAMP.test(createdAt) || !isRealTimestamp(createdAt) || !UUID.test(id)) return undefined;
  return { createdAt, id };
}
