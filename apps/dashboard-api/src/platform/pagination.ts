// Keyset pagination for every list: `?limit` (default 50, max 200) and an opaque `?cursor`,
// answered as {items, nextCursor}. Order: newest first, (created_at DESC, id DESC) — the event
// log, whose ids only grow, pages by id alone. One cursor format, one keyset condition.
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

// The one cursor format of every list: base64url of a JSON array holding the last row's sort
// key — [created_at as exact text, id] for the newest-first lists, [id] for the event log.
// Opaque to clients; a cursor this API did not issue is a 422 on query.cursor.

/** A timestamp as PostgreSQL prints it (`2026-12-01 09:00:00.123456+00`) or as ISO UTC (`…T…Z`, the audit list). */
const EXACT_TIME = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d{1,6})?([+-]\d{2}(:\d{2})?|Z)$/;
const createdAtKey = z.tuple([z.string().regex(EXACT_TIME).refine((text) => isRealTimestamp(text)), z.uuid()]);

/**
 * Whether the date and time fields of a well-formed timestamp name a real instant PostgreSQL
 * accepts: year 0000 matches the pattern but is out of range there (22008, a 500 before), and
 * so are month 13 or 31 February.
 */
export function isRealTimestamp(text: string): boolean {
  const match = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})/.exec(text);
  if (!match) return false;
  const [year, month, day, hour, minute, second] = match.slice(1).map(Number) as [number, number, number, number, number, number];
  const date = new Date(Date.UTC(year, month - 1, day));
  return year >= 1 && date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day && hour < 24 && minute < 60 && second < 60;
}

/** The cursor of the page after the row whose sort key is `key`. */
export function encodeCursor(key: readonly string[]): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

/** The sort key inside `cursor`, or undefined when it is not a cursor this API issued. */
export function readCursor<T>(cursor: string, key: z.ZodType<T>): T | undefined {
  if (!/^[A-Za-z0-9_-]{1,400}$/.test(cursor)) return undefined;
  try {
    const parsed = key.safeParse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A `cursor` query field for a list with its own sort key (the event log: [id]; a job's
 * executions: [seq]) in the one format: parsed into the key, or a 422 on query.cursor.
 */
export function cursorField<T>(key: z.ZodType<T>) {
  return z.string().transform((value, ctx) => {
    const parsed = readCursor(value, key);
    if (parsed === undefined) {
      ctx.addIssue({ code: 'custom', message: 'is not a cursor returned by this list' });
      return z.NEVER;
    }
    return parsed;
  });
}

/** The (created_at, id) key of a newest-first list's cursor, or undefined. */
export function readCreatedAtCursor(cursor: string): CursorKey | undefined {
  const key = readCursor(cursor, createdAtKey);
  return key && { createdAt: key[0], id: key[1] };
}

export function decodeCursor(cursor: string): CursorKey {
  const key = readCreatedAtCursor(cursor);
  if (!key) throw unprocessable('The request is not valid.', [{ path: 'query.cursor', message: 'cursor is not a cursor this API returned.' }]);
  return key;
}

/** The sort-key columns of a newest-first list. */
export interface KeysetColumns {
  createdAt: string;
  id: string;
}
const OWN_COLUMNS: KeysetColumns = { createdAt: 'created_at', id: 'id' };

/**
 * The keyset condition of every newest-first list, "rows after the cursor's row" in the order
 * (created_at DESC, id DESC), over two SQL expressions holding the cursor's key (e.g. `$2`, `$3`).
 */
export function keysetSql(createdAt: string, id: string, columns: KeysetColumns = OWN_COLUMNS): string {
  return `(${columns.createdAt}, ${columns.id}) < (${createdAt}::timestamptz, ${id}::uuid)`;
}

/** The same condition as a Prisma fragment with the key as parameters; TRUE on the first page. */
export function keysetAfter(after: CursorKey | undefined, columns: KeysetColumns = OWN_COLUMNS): Prisma.Sql {
  if (!after) return Prisma.sql`TRUE`;
  return new Prisma.Sql(keysetSql('\0', '\0', columns).split('\0'), [after.createdAt, after.id]);
}

/** Tables with (id uuid, created_at timestamptz) that lists page through. */
export type PagedTable = 'agents' | 'dongles' | 'dongle_groups' | 'jobs' | 'firmware_images';

type RawClient = { $queryRaw<T = unknown>(query: Prisma.Sql): Prisma.PrismaPromise<T> };

/**
 * One page of ids from `table` matching `where` (a Prisma.sql fragment over the table's own
 * columns), newest first, plus the cursor of the next page.
 */
export async function pageIds(client: RawClient, table: PagedTable, where: Prisma.Sql, query: ListQuery): Promise<{ ids: string[]; nextCursor: string | null }> {
  const keyset = keysetAfter(query.cursor ? decodeCursor(query.cursor) : undefined);
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
 * For lists that fetch `limit + 1` rows (the extra one tells whether another page exists): the
 * page, shaped by `present`, and the cursor of the next one from the last row's sort key.
 */
export function pageFrom<R, T>(rows: R[], limit: number, present: (row: R) => T, sortKey: (row: R) => readonly string[]): Page<T> {
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return { items: page.map(present), nextCursor: rows.length > limit && last !== undefined ? encodeCursor(sortKey(last)) : null };
}

/** pageFrom for the newest-first lists whose query selects `created_at::text AS k`. */
export function toPage<R extends { id: string; k: string }, T>(rows: R[], limit: number, present: (row: R) => T): Page<T> {
  return pageFrom(rows, limit, present, (row) => [row.k, row.id]);
}
