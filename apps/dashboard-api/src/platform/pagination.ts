// Keyset pagination for the §3 lists: `?limit` (default 50, max 200) and an opaque `?cursor`,
// answered as {items, nextCursor}. Order: newest first, (created_at DESC, id DESC).
//
// The cursor carries created_at as PostgreSQL text, not as a JS Date: timestamps have
// microseconds and a Date only milliseconds, so a millisecond cursor would skip or repeat rows
// created within the same millisecond. Pages are therefore chosen by one raw query on ids, and
// callers load the rows (with their relations) by id and keep that order.
import { z } from 'zod';
import { Prisma } from '../generated/prisma/client.ts';
import { unprocessable } from './errors.ts';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;

export const listQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(DEFAULT_PAGE_SIZE),
  cursor: z.string().max(200).optional(),
});
export type ListQuery = z.output<typeof listQuery>;

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** The response schema of a list of `item`, for OpenAPI. */
export const pageOf = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item), nextCursor: z.string().nullable() });

export interface CursorKey {
  createdAt: string;
  id: string;
}

const cursorSchema = z.tuple([z.string().regex(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?[+-]\d{2}(:\d{2})?$/), z.uuid()]);

/**
 * Whether the date and time fields of a well-formed timestamp name a real instant PostgreSQL
 * accepts: year 0000 matches the pattern but is out of range there (22008, a 500 before), and
 * so are month 13 or 31 February. Shared with the audit cursor.
 */
export function isRealTimestamp(text: string): boolean {
  const match = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})/.exec(text);
  if (!match) return false;
  const [year, month, day, hour, minute, second] = match.slice(1).map(Number) as [number, number, number, number, number, number];
  const date = new Date(Date.UTC(year, month - 1, day));
  return year >= 1 && date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day && hour < 24 && minute < 60 && second < 60;
}

function encodeCursor(key: CursorKey): string {
  return Buffer.from(JSON.stringify([key.createdAt, key.id]), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): CursorKey {
  try {
    const [createdAt, id] = cursorSchema.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
    if (!isRealTimestamp(createdAt)) throw new Error('not a real instant');
    return { createdAt, id };
  } catch {
    throw unprocessable('The request is not valid.', [{ path: 'query.cursor', message: 'cursor is not a cursor this API returned.' }]);
  }
}

/** Tables with (id uuid, created_at timestamptz) that lists page through. */
export type PagedTable = 'agents' | 'dongles' | 'dongle_groups';

type RawClient = { $queryRaw<T = unknown>(query: Prisma.Sql): Prisma.PrismaPromise<T> };

/**
 * One page of ids from `table` matching `where` (a Prisma.sql fragment over the table's own
 * columns), newest first, plus the cursor of the next page.
 */
export async function pageIds(client: RawClient, table: PagedTable, where: Prisma.Sql, query: ListQuery): Promise<{ ids: string[]; nextCursor: string | null }> {
  const after = query.cursor ? decodeCursor(query.cursor) : undefined;
  const keyset = after ? Prisma.sql`(created_at, id) < (${after.createdAt}::timestamptz, ${after.id}::uuid)` : Prisma.sql`TRUE`;
  const rows = await client.$queryRaw<Array<{ id: string; k: string }>>(Prisma.sql`
    SELECT id::text AS id, created_at::text AS k FROM ${Prisma.raw(`"${table}"`)}
    WHERE (${where}) AND ${keyset}
    ORDER BY created_at DESC, id DESC
    LIMIT ${query.limit + 1}`);
  const page = toPage(rows, query.limit, (row) => row.id);
  return { ids: page.items, nextCursor: page.nextCursor };
}

/** Puts rows loaded by id back into the page's order. */
export function inIdOrder<T extends { id: string }>(ids: string[], rows: T[]): T[] {
  const byId = new Map(rows.map((row) => [row.id, row]));
  return ids.flatMap((id) => byId.get(id) ?? []);
}

/**
 * For lists read by one raw query that selects `created_at::text AS k` and fetches `limit + 1`
 * rows: the page, shaped by `present`, and the cursor of the next one.
 */
export function toPage<R extends { id: string; k: string }, T>(rows: R[], limit: number, present: (row: R) => T): Page<T> {
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return { items: page.map(present), nextCursor: rows.length > limit && last ? encodeCursor({ createdAt: last.k, id: last.id }) : null };
}
