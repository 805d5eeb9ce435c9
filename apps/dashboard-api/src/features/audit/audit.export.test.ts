import http from 'node:http';
import { randomUUID } from 'node:crypto';
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../../../test/support/test-app.ts';
import { startAdminApp, type Admin } from '../../../test/support/admin-app.ts';
import { CSV_COLUMNS } from './audit.presenter.ts';
import { download, eventually, insertAuditRows, parseCsv } from '../../../test/support/audit-rows.ts';

let app: TestApp;
let admin: Admin;
beforeAll(async () => ({ app, admin } = await startAdminApp()));
afterAll(() => app.stop());

// A full collection on demand, so the export's heap is measured as live data rather than as
// whenever the collector last ran (Node 24 lets ~70 MiB of garbage build up where Node 20 runs
// at ~20). The flag can be set at run time; `gc` then exists in a new context.
v8.setFlagsFromString('--expose-gc');
const collectGarbage = vm.runInNewContext('gc') as () => void;

const exportUrl = (query: Record<string, string>) => `${app.url}/api/admin/audit-logs/export?${new URLSearchParams(query)}`;

describe('GET /api/admin/audit-logs/export', () => {
  it('streams NDJSON, newest first, as an attachment', async () => {
    const actor = randomUUID();
    const inserted = await insertAuditRows(app.db.pool, [
      { actorId: actor, action: 'test.export', createdAt: '2024-05-01T10:00:00.000001Z', details: { n: 1 } },
      { actorId: actor, action: 'test.export', createdAt: '2024-05-01T10:00:00.000002Z', details: { n: 2 } },
      { actorId: actor, action: 'test.other', createdAt: '2024-05-01T10:00:00.000003Z' },
    ]);
    const res = await download(exportUrl({ format: 'ndjson', actorId: actor, action: 'test.export' }), admin.cookie);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/x-ndjson');
    expect(res.headers['content-disposition']).toMatch(/^attachment; filename="audit-logs-\d{8}T\d{6}Z\.ndjson"$/);
    const lines = res.body.split('\n');
    expect(lines.pop()).toBe('');
    const items = lines.map((line) => JSON.parse(line));
    expect(items.map((item) => item.id)).toEqual([inserted[1], inserted[0]]);
    expect(items[0]).toMatchObject({ actorId: actor, action: 'test.export', createdAt: '2024-05-01T10:00:00.000002Z', details: { n: 2 } });
  });

  it('streams CSV with a header row and RFC 4180 quoting, neutralising formula cells', async () => {
    const actor = randomUUID();
    const hostile = [
      ['=HYPERLINK("http://evil.test","x")', `'=HYPERLINK("http://evil.test","x")`],
      ['+1+2', `'+1+2`],
      ['-2+3', `'-2+3`],
      ['@SUM(A1:A2)', `'@SUM(A1:A2)`],
      ['\tcmd', `'\tcmd`],
      ['\rcmd', `'\rcmd`],
      ['plain, with "quotes" and\na newline', 'plain, with "quotes" and\na newline'],
      ['Mozilla/5.0', 'Mozilla/5.0'],
    ] as const;
    const inserted = await insertAuditRows(
      app.db.pool,
      hostile.map(([text], index) => ({ actorId: actor, action: 'test.csv', targetType: text, userAgent: text, createdAt: new Date(Date.UTC(2024, 4, 2, 0, 0, index)).toISOString() })),
    );
    const res = await download(exportUrl({ format: 'csv', actorId: actor }), admin.cookie);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(res.headers['content-disposition']).toMatch(/^attachment; filename="audit-logs-\d{8}T\d{6}Z\.csv"$/);

    // The raw text: every neutralised cell is quoted, so no record starts a formula.
    expect(res.body).toContain(`"'=HYPERLINK(""http://evil.test"",""x"")"`);
    expect(res.body).toContain(`"'-2+3"`);
    expect(res.body).not.toMatch(/(^|,)[=+\-@]/m);

    const [header, ...records] = parseCsv(res.body);
    expect(header).toEqual([...CSV_COLUMNS]);
    const column = (name: (typeof CSV_COLUMNS)[number]) => CSV_COLUMNS.indexOf(name);
    expect(records.map((record) => record[column('id')])).toEqual([...inserted].reverse());
    expect(records.map((record) => record[column('userAgent')])).toEqual(hostile.map(([, cell]) => cell).reverse());
    expect(records.map((record) => record[column('targetType')])).toEqual(hostile.map(([, cell]) => cell).reverse());
    expect(records[0]![column('targetId')]).toBe(''); // null is an empty cell
  });

  it('quotes every cell, so a spreadsheet reading ";" as the separator finds no formula either', async () => {
    const actor = randomUUID();
    await insertAuditRows(app.db.pool, [{ actorId: actor, action: 'test.csv', targetType: 'a;=1+1', userAgent: ';=1+1', createdAt: '2024-05-03T00:00:00.000Z' }]);
    const res = await download(exportUrl({ format: 'csv', actorId: actor }), admin.cookie);
    expect(res.status).toBe(200);
    expect(res.body).toContain('";=1+1"');
    for (const separator of [',', ';']) {
      const cells = parseCsv(res.body, separator).flat();
      expect(cells.filter((cell) => /^[=+\-@]/.test(cell))).toEqual([]);
    }
    // The comma reading is unchanged: the value comes back whole.
    const [, record] = parseCsv(res.body);
    expect(record![CSV_COLUMNS.indexOf('userAgent')]).toBe(';=1+1');
    expect(record![CSV_COLUMNS.indexOf('targetId')]).toBe('');
  });

  it('writes a CSV header even when nothing matches', async () => {
    const res = await download(exportUrl({ format: 'csv', actorId: randomUUID() }), admin.cookie);
    expect(res.body).toBe(`${CSV_COLUMNS.map((name) => `"${name}"`).join(',')}\r\n`);
  });

  it('audits the export itself, with its filters', async () => {
    const actor = randomUUID();
    await download(exportUrl({ format: 'csv', actorId: actor, from: '2024-01-01' }), admin.cookie);
    const { rows } = await app.db.pool.query(
      `SELECT actor_type, result, details FROM audit_logs WHERE actor_id = $1 AND action = 'audit.export' AND details->'filters'->>'actorId' = $2`,
      [admin.user.id, actor],
    );
    expect(rows).toEqual([{ actor_type: 'user', result: 'success', details: { format: 'csv', filters: { actorId: actor, from: '2024-01-01T00:00:00.000Z' } } }]);
  });

  it('refuses an unknown format and list-only parameters with 422', async () => {
    expect((await admin.agent.get('/api/admin/audit-logs/export').query({ format: 'xml' })).status).toBe(422);
    const res = await admin.agent.get('/api/admin/audit-logs/export').query({ limit: '10' });
    expect(res.status).toBe(422);
    expect(res.body.error.details[0].path).toBe('query');
  });
});

describe('export of 100,000 rows', () => {
  const actor = randomUUID();
  const total = 100_000;
  beforeAll(async () => {
    await app.db.pool.query(
      `INSERT INTO audit_logs (actor_type, actor_id, action, target_type, target_id, ip, user_agent, details, created_at)
       SELECT 'user', $1, 'test.bulk', 'dongle', gen_random_uuid()::text, '198.51.100.7', 'bulk-test/1.0',
              jsonb_build_object('n', g, 'note', repeat('x', 64)), now() - g * interval '1 ms'
       FROM generate_series(1, $2::int) AS g`,
      [actor, total],
    );
  });

  it('streams every row with bounded heap growth', async () => {
    // The JS heap plus Buffers outside it, after a full collection: what is still held.
    const live = () => {
      collectGarbage();
      const { heapUsed, external } = process.memoryUsage();
      return heapUsed + external;
    };
    const baseline = live();
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, live())), 50);
    let lines = 0;
    let bytes = 0;
    let first = '';
    try {
      await new Promise<void>((resolve, reject) => {
        http
          .get(exportUrl({ format: 'ndjson', actorId: actor }), { headers: { cookie: admin.cookie } }, (res) => {
            expect(res.statusCode).toBe(200);
            // Count without keeping the body: the server shares this process's heap.
            res.on('data', (chunk: Buffer) => {
              if (!first.includes('\n')) first += chunk.toString('utf8', 0, Math.min(chunk.length, 4096));
              bytes += chunk.length;
              for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
            });
            res.on('end', resolve);
            res.on('error', reject);
          })
          .on('error', reject);
      });
    } finally {
      clearInterval(sampler);
    }
    expect(lines).toBe(total);
    expect(JSON.parse(first.split('\n')[0]!)).toMatchObject({ actorId: actor, details: { n: 1 } });
    expect(bytes).toBeGreaterThan(30 * 2 ** 20);
    // Holding the rows would keep more than the bytes sent alive (text plus a row object each).
    expect(peak - baseline).toBeLessThan(16 * 2 ** 20);
  });

  it('releases the cursor and its connection when the client disconnects mid-stream', async () => {
    const pool = app.db.pool;
    const exportsRunning = async () =>
      (
        await pool.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE query LIKE '/* audit-export */%' AND state <> 'idle' AND pid <> pg_backend_pid()`,
        )
      ).rows[0]!.n;
    expect(await exportsRunning()).toBe(0);

    const request = http.get(exportUrl({ format: 'csv', actorId: actor }), { headers: { cookie: admin.cookie } });
    const response = await new Promise<http.IncomingMessage>((resolve, reject) => request.on('response', resolve).on('error', reject));
    expect(response.statusCode).toBe(200);
    // Take one chunk, then stop reading: the server fills the socket and waits for 'drain'
    // while holding its cursor open.
    await new Promise((resolve) => response.once('data', resolve));
    response.pause();
    await eventually(() => pool.totalCount - pool.idleCount >= 1);
    expect(await exportsRunning()).toBe(1);

    request.on('error', () => undefined);
    request.destroy();

    await eventually(async () => pool.idleCount === pool.totalCount && (await exportsRunning()) === 0);
    expect(pool.waitingCount).toBe(0);
    // It stopped where the client left, rather than reading the rest of the cursor into the void.
    const requestId = response.headers['x-request-id'];
    const ended = () => app.logs.map((line) => JSON.parse(line)).find((entry) => entry.requestId === requestId && entry.msg === 'download ended');
    await eventually(() => ended() !== undefined);
    expect(ended()).toMatchObject({ complete: false });
    // The released connection still works.
    expect((await pool.query('SELECT 1 AS ok')).rows).toEqual([{ ok: 1 }]);
  });

  it('answers 429 while two exports are already streaming, and frees the slots when they end', async () => {
    const openPaused = async () => {
      const request = http.get(exportUrl({ format: 'ndjson', actorId: actor }), { headers: { cookie: admin.cookie } });
      request.on('error', () => undefined);
      const response = await new Promise<http.IncomingMessage>((resolve) => request.on('response', resolve));
      response.pause();
      return request;
    };
    const running = [await openPaused(), await openPaused()];
    const refused = await admin.agent.get('/api/admin/audit-logs/export').query({ actorId: actor });
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toBe('10');

    for (const request of running) request.destroy();
    await eventually(() => app.db.pool.idleCount === app.db.pool.totalCount);
    const small = await download(exportUrl({ format: 'csv', actorId: randomUUID() }), admin.cookie);
    expect(small.status).toBe(200);
  });
});
