// The opaque cursor of a newest-first list ordered by (created_at DESC, id DESC). It carries
// created_at as PostgreSQL's own text: a JS Date has only milliseconds, and rows created in the
// same millisecond would be skipped or repeated.
import { z } from 'zod';
import { unprocessable } from '../../platform/errors.ts';

// §3 list parameters. (Same shape as platform/pagination.ts, kept here while that file is not
// yet in the tree; fold into it later.)
export const listQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional(),
});
export type ListQuery = z.output<typeof listQuery>;

export const pageOf = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item), nextCursor: z.string().nullable() });

export interface KeysetPosition {
  /** created_at::text of the last row of the page */
  createdAt: string;
  id: string;
}

const positionSchema = z.tuple([z.string().regex(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?[+-]\d{2}(:\d{2})?$/), z.uuid()]);

export function encodeCursor(position: KeysetPosition): string {
  return Buffer.from(JSON.stringify([position.createdAt, position.id]), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): KeysetPosition {
  try {
    const [createdAt, id] = positionSchema.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
    return { createdAt, id };
  } catch {
    throw unprocessable('The request is not valid.', [{ path: 'query.cursor', message: 'cursor is not a cursor this API returned.' }]);
  }
}

/** Splits `limit + 1` fetched rows into the page and the next cursor. */
export function toPage<R extends { k: string; id: string }, T>(rows: R[], limit: number, present: (row: R) => T): { items: T[]; nextCursor: string | null } {
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return { items: page.map(present), nextCursor: rows.length > limit && last ? encodeCursor({ createdAt: last.k, id: last.id }) : null };
}
