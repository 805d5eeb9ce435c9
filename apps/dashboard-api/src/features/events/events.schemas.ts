// Request and response shapes of /api/orgs/:orgId/events and …/events/stream.
import { z } from 'zod';
import { MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE, readCursor } from '../../platform/pagination.ts';
import { EVENT_TYPE_NAMES, SUBJECT_TYPES } from '../../platform/events/event-types.ts';

const eventId = z.string().regex(/^\d{1,19}$/, 'must be an event id');

/** The list's sort key inside the one cursor format (platform/pagination.ts): [last event id]. */
export const eventCursorKey = z.tuple([eventId]);

export const orgParams = z.strictObject({ orgId: z.uuid({ message: 'orgId must be a UUID' }) });

export const eventListQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(DEFAULT_PAGE_SIZE),
  /** nextCursor of the previous page (events older than it). */
  cursor: z
    .string()
    .transform((value, ctx) => {
      const key = readCursor(value, eventCursorKey);
      if (!key) {
        ctx.addIssue({ code: 'custom', message: 'is not a cursor returned by this list' });
        return z.NEVER;
      }
      return key[0];
    })
    .optional(),
  /** One type or a comma-separated list. */
  type: z
    .string()
    .transform((value) => value.split(',').map((t) => t.trim()).filter(Boolean))
    .pipe(z.array(z.enum(EVENT_TYPE_NAMES as [string, ...string[]])).min(1))
    .optional(),
  subjectType: z.enum(SUBJECT_TYPES as [string, ...string[]]).optional(),
  subjectId: z.string().min(1).max(100).optional(),
});
export type EventListQuery = z.output<typeof eventListQuery>;

export const streamQuery = z.strictObject({
  /** For clients that cannot set the Last-Event-ID header. */
  lastEventId: eventId.optional(),
});

export const eventView = z.object({
  id: z.string(),
  type: z.string(),
  timestamp: z.string(),
  subject: z.object({ type: z.string(), id: z.string() }),
  data: z.record(z.string(), z.unknown()),
});
export type EventView = z.infer<typeof eventView>;

export const eventPage = z.object({ items: z.array(eventView), nextCursor: z.string().nullable() });
