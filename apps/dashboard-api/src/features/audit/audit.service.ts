// The audit review: a filtered, keyset-paginated list and a streamed export. Callers are global
// admins (the whole log) or an organization's admins (`organizationId`: that organization's rows
// only), as the routes' guards decide; the export is itself audited.
import type { Database } from '../../platform/database.ts';
import { tooManyRequests } from '../../platform/errors.ts';
import type { SessionUser } from '../auth/principal.ts';
import { pageFrom, type Page } from '../../platform/pagination.ts';
import { exportFormats, presentAuditLog } from './audit.presenter.ts';
import { createAuditRepository, type AuditRepository } from './audit.repository.ts';
import type { AuditExportQuery, AuditFilters, AuditListQuery, AuditLogView, ExportFormat } from './audit.schemas.ts';
import { recordAudit, type RequestContext } from '../../platform/audit/audit-writer.ts';

export interface AuditExport {
  format: ExportFormat;
  contentType: string;
  filename: string;
  chunks: AsyncGenerator<string, void, undefined>;
}

/** The filters as JSON for the export's own audit row (dates as ISO text). */
const describeFilters = (filters: AuditFilters) =>
  Object.fromEntries(Object.entries(filters).map(([key, value]) => [key, value instanceof Date ? value.toISOString() : value]));

async function* exportChunks(repository: AuditRepository, filters: AuditFilters, format: ExportFormat): AsyncGenerator<string, void, undefined> {
  const shape = exportFormats[format];
  let header = shape.header;
  for await (const rows of repository.stream(filters)) {
    yield header + rows.map((row) => shape.line(presentAuditLog(row))).join('');
    header = '';
  }
  if (header) yield header; // a CSV with no rows still has its header
}

/**
 * Each running export holds a pool connection for as long as its client reads; a cap keeps a few
 * slow downloads from starving every other request of this process.
 */
export const MAX_CONCURRENT_EXPORTS = 2;

export function createAuditReview({ db, maxConcurrentExports = MAX_CONCURRENT_EXPORTS }: { db: Database; maxConcurrentExports?: number }) {
  const repository = createAuditRepository(db.pool);
  let running = 0;
  // The slot is given back when the chunks end, fail or are closed (streamDownload always
  // starts them, so their `finally` runs).
  async function* holdingSlot(chunks: AsyncGenerator<string, void, undefined>): AsyncGenerator<string, void, undefined> {
    try {
      yield* chunks;
    } finally {
      running--;
    }
  }
  return {
    async list(query: AuditListQuery, organizationId?: string): Promise<Page<AuditLogView>> {
      const { cursor, limit, ...rest } = query;
      const filters: AuditFilters = { ...rest, organizationId };
      // One row more than the page tells whether another page exists.
      const rows = await repository.page(filters, cursor, limit + 1);
      return pageFrom(rows, limit, presentAuditLog, (row) => [row.created_at_utc, row.id]);
    },

    /** Records the export (even one the client abandons), then hands back its chunks to stream. */
    async export(admin: SessionUser, query: AuditExportQuery, context: RequestContext, organizationId?: string): Promise<AuditExport> {
      const { format, ...rest } = query;
      const filters: AuditFilters = { ...rest, organizationId };
      if (running >= maxConcurrentExports) throw tooManyRequests(10, 'Too many audit exports are running; try again shortly.');
      running++;
      try {
        await recordAudit(db.prisma, {
          actor: { type: 'user', id: admin.id },
          action: 'audit.export',
          details: { format, filters: describeFilters(filters) },
          context,
        });
      } catch (error) {
        running--;
        throw error;
      }
      const stamp = new Date().toISOString().replace(/[-:]|\.\d+/g, '');
      return {
        format,
        contentType: exportFormats[format].contentType,
        filename: `audit-logs-${organizationId ? `org-${organizationId.slice(0, 8)}-` : ''}${stamp}.${exportFormats[format].extension}`,
        chunks: holdingSlot(exportChunks(repository, filters, format)),
      };
    },
  };
}

export type AuditReview = ReturnType<typeof createAuditReview>;
