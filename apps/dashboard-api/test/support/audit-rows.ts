// Test-only helpers for the audit feature. The audit table is shared by every test file and is
// append-only, so each test writes rows under its own actor/target ids and filters by them.
import http from 'node:http';
import type pg from 'pg';

export interface AuditRowInput {
  actorType?: 'user' | 'agent' | 'system';
  actorId?: string | null;
  action?: string;
  targetType?: string | null;
  targetId?: string | null;
  result?: string;
  ip?: string | null;
  userAgent?: string | null;
  details?: unknown;
  /** ISO timestamp; omitted: the database's now() (one value per statement). */
  createdAt?: string;
}

/** Inserts the rows in one statement (so rows without createdAt share the same now()); returns their ids in order. */
export async function insertAuditRows(pool: pg.Pool, rows: AuditRowInput[]): Promise<string[]> {
  const records = rows.map((row, ord) => ({
    ord,
    actor_type: row.actorType ?? 'user',
    actor_id: row.actorId ?? null,
    action: row.action ?? 'test.event',
    target_type: row.targetType ?? null,
    target_id: row.targetId ?? null,
    result: row.result ?? 'success',
    ip: row.ip ?? null,
    user_agent: row.userAgent ?? null,
    details: row.details ?? null,
    created_at: row.createdAt ?? null,
  }));
  const { rows: inserted } = await pool.query<{ id: string }>(
    `INSERT INTO audit_logs (actor_type, actor_id, action, target_type, target_id, result, ip, user_agent, details, created_at)
     SELECT r.actor_type::actor_type, r.actor_id, r.action, r.target_type, r.target_id, r.result, r.ip, r.user_agent, r.details, coalesce(r.created_at, now())
     FROM jsonb_to_recordset($1::jsonb) AS r(ord int, actor_type text, actor_id uuid, action text, target_type text, target_id text,
                                            result text, ip text, user_agent text, details jsonb, created_at timestamptz)
     ORDER BY r.ord
     RETURNING id`,
    [JSON.stringify(records)],
  );
  return inserted.map((row) => row.id);
}

export interface Download {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A whole (small) download as text, with the session cookie. */
export function download(url: string, cookie: string): Promise<Download> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers: { cookie } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

/** RFC 4180 parser for the tests: quoted fields, doubled quotes, CRLF records. */
export function parseCsv(text: string, separator = ','): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (char === '"') quoted = false;
      else field += char;
    } else if (char === '"') quoted = true;
    else if (char === separator) {
      record.push(field);
      field = '';
    } else if (char === '\r' && text[i + 1] === '\n') {
      record.push(field);
      records.push(record);
      record = [];
      field = '';
      i++;
    } else field += char;
  }
  if (field || record.length) throw new Error('CSV does not end with CRLF');
  return records;
}

/** Polls until `check` is true; fails after `limitMs` (a liveness bound, not a timing assertion). */
export async function eventually(check: () => Promise<boolean> | boolean, limitMs = 15_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
