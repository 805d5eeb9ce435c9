// One audit row in each of its three shapes: the JSON item of the list, an NDJSON line, a CSV record.
import type { AuditRow } from './audit.repository.ts';
import type { AuditLogView, ExportFormat } from './audit.schemas.ts';

export function presentAuditLog(row: AuditRow): AuditLogView {
  return {
    id: row.id,
    createdAt: row.created_at_utc,
    actorType: row.actor_type,
    actorId: row.actor_id,
    action: row.action,
    targetType: row.target_type,
    targetId: row.target_id,
    result: row.result,
    ip: row.ip,
    userAgent: row.user_agent,
    details: row.details ?? null,
  };
}

export const CSV_COLUMNS = ['id', 'createdAt', 'actorType', 'actorId', 'action', 'targetType', 'targetId', 'result', 'ip', 'userAgent', 'details'] as const;

// A spreadsheet runs a cell that starts with one of these as a formula (OWASP "CSV Injection").
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * One RFC 4180 field, neutralised against formula injection: `'` prefixed when it starts like a
 * formula, and always quoted. Quoting every cell (empty ones too) matters where the reader's
 * separator is not the comma: opened with `;` as separator, an unquoted `;=1+1` would split
 * into a cell `=1+1` that runs.
 */
export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '""';
  let text = typeof value === 'string' ? value : JSON.stringify(value);
  if (FORMULA_START.test(text)) text = `'${text}`;
  return `"${text.replaceAll('"', '""')}"`;
}

const CRLF = '\r\n';

export const exportFormats: Record<ExportFormat, { contentType: string; extension: string; header: string; line(view: AuditLogView): string }> = {
  ndjson: {
    contentType: 'application/x-ndjson',
    extension: 'ndjson',
    header: '',
    line: (view) => `${JSON.stringify(view)}\n`,
  },
  csv: {
    contentType: 'text/csv; charset=utf-8',
    extension: 'csv',
    header: CSV_COLUMNS.map(csvCell).join(',') + CRLF,
    line: (view) => CSV_COLUMNS.map((column) => csvCell(view[column])).join(',') + CRLF,
  },
};
