import { z } from 'zod';
import { readCreatedAtCursor } from '../../platform/pagination.ts';

// An ISO 8601 date (UTC midnight) or date-time with Z or an offset; never a local time, whose
// meaning would depend on the server's time zone.
const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2}))?$/;
const timestamp = z
  .string()
  .regex(ISO_TIMESTAMP, 'must be an ISO 8601 date or date-time with a time zone, e.g. 2026-01-31T00:00:00Z')
  .refine((value) => !Number.isNaN(Date.parse(value)), 'is not a valid date')
  .transform((value) => new Date(value));

const label = (max: number) => z.string().trim().min(1).max(max);

const filterShape = {
  actorId: z.uuid({ message: 'must be a uuid' }).toLowerCase().optional(),
  action: label(100).optional(),
  targetType: label(50).optional(),
  // Not a uuid on purpose: some targets are named by other keys (a dongle's device_id).
  targetId: label(200).optional(),
  /** Inclusive. */
  from: timestamp.optional(),
  /** Exclusive. */
  to: timestamp.optional(),
};

const fromNotAfterTo = (query: { from?: Date | undefined; to?: Date | undefined }, ctx: z.RefinementCtx) => {
  if (query.from && query.to && query.from > query.to) ctx.addIssue({ code: 'custom', path: ['from'], message: 'must not be after `to`' });
};

export const auditListQuery = z
  .strictObject({
    ...filterShape,
    cursor: z
      .string()
      .transform((value, ctx) => {
        const position = readCreatedAtCursor(value);
        if (!position) {
          ctx.addIssue({ code: 'custom', message: 'is not a cursor returned by this list' });
          return z.NEVER;
        }
        return position;
      })
      .optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
  })
  .superRefine(fromNotAfterTo);
export type AuditListQuery = z.output<typeof auditListQuery>;

export const auditExportQuery = z
  .strictObject({ ...filterShape, format: z.enum(['ndjson', 'csv']).default('ndjson') })
  .superRefine(fromNotAfterTo);
export type AuditExportQuery = z.output<typeof auditExportQuery>;

/** The filters both routes share, as the repository takes them. */
export type AuditFilters = Pick<AuditListQuery, 'actorId' | 'action' | 'targetType' | 'targetId' | 'from' | 'to'> & {
  /** Only this organization's rows (the organization audit log); set by the route. */
  organizationId?: string | undefined;
};
export type ExportFormat = AuditExportQuery['format'];

export const auditLogView = z.object({
  id: z.uuid(),
  /** ISO 8601 UTC with microseconds. */
  createdAt: z.string(),
  actorType: z.enum(['user', 'agent', 'system']),
  actorId: z.uuid().nullable(),
  action: z.string(),
  targetType: z.string().nullable(),
  targetId: z.string().nullable(),
  result: z.string(),
  ip: z.string().nullable(),
  userAgent: z.string().nullable(),
  details: z.unknown().nullable(),
});
export type AuditLogView = z.infer<typeof auditLogView>;

export const auditLogPage = z.object({ items: z.array(auditLogView), nextCursor: z.string().nullable() });
