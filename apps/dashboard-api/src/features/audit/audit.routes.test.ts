import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLoggedInUser } from '../../../test/support/factories.ts';
import type { TestApp } from '../../../test/support/test-app.ts';
import { startAdminApp, type Admin } from '../../../test/support/admin-app.ts';
import { encodeCursor } from '../../platform/pagination.ts';
import { insertAuditRows, type AuditRowInput } from '../../../test/support/audit-rows.ts';

let app: TestApp;
let admin: Admin;
beforeAll(async () => ({ app, admin } = await startAdminApp()));
afterAll(() => app.stop());

const list = (query: Record<string, string | number>) => admin.agent.get('/api/admin/audit-logs').query(query);
const ids = (body: { items: { id: string }[] }) => body.items.map((item) => item.id);

describe('GET /api/admin/audit-logs filters', () => {
  // A small fixture under unique ids, actions, target types and a random day in the past, so
  // that every filter (alone or combined) only ever matches rows of this file.
  const tag = randomBytes(4).toString('hex');
  const actorA = randomUUID();
  const actorB = randomUUID();
  const targetX = randomUUID();
  const targetY = `dongle-${tag}`;
  const login = `t${tag}.login`;
  const claim = `t${tag}.claim`;
  const dongle = `t${tag}_dongle`;
  const user = `t${tag}_user`;
  const day0 = Date.UTC(2005, 0, 1) + Math.floor(Math.random() * 3000) * 86_400_000;
  const at = (hours: number) => new Date(day0 + hours * 3_600_000).toISOString();
  const fixture: (AuditRowInput & { createdAt: string })[] = [
    { actorId: actorA, action: login, targetType: user, targetId: targetX, createdAt: at(1) },
    { actorId: actorA, action: claim, targetType: dongle, targetId: targetY, createdAt: at(2) },
    { actorId: actorB, action: login, targetType: user, targetId: targetX, createdAt: at(3) },
    { actorId: actorB, action: claim, targetType: dongle, targetId: targetY, createdAt: at(4) },
    { actorId: actorA, action: claim, targetType: dongle, targetId: targetX, createdAt: at(5) },
    { actorId: actorA, action: login, targetType: user, targetId: targetY, createdAt: at(6) },
    { actorId: actorB, action: claim, targetType: user, targetId: targetX, createdAt: at(7) },
  ];
  let rowIds: string[] = [];
  beforeAll(async () => {
    rowIds = await insertAuditRows(app.db.pool, fixture);
  });

  /** The fixture rows a filter should return, newest first. */
  const expected = (match: (row: (typeof fixture)[number]) => boolean) =>
    fixture
      .map((row, index) => ({ row, id: rowIds[index]! }))
      .filter(({ row }) => match(row))
      .sort((a, b) => b.row.createdAt.localeCompare(a.row.createdAt))
      .map(({ id }) => id);

  const cases: [string, Record<string, string>, (row: (typeof fixture)[number]) => boolean][] = [
    ['actorId alone', { actorId: actorA }, (r) => r.actorId === actorA],
    ['action alone', { action: claim }, (r) => r.action === claim],
    ['targetType alone', { targetType: user }, (r) => r.targetType === user],
    ['targetId alone', { targetId: targetX }, (r) => r.targetId === targetX],
    ['a time range alone (from inclusive, to exclusive)', { from: at(2), to: at(5) }, (r) => r.createdAt >= at(2) && r.createdAt < at(5)],
    ['actorId + from', { actorId: actorA, from: at(5) }, (r) => r.actorId === actorA && r.createdAt >= at(5)],
    ['actorId + to', { actorId: actorB, to: at(4) }, (r) => r.actorId === actorB && r.createdAt < at(4)],
    ['actorId + action', { actorId: actorA, action: login }, (r) => r.actorId === actorA && r.action === login],
    ['action + targetType', { action: claim, targetType: user }, (r) => r.action === claim && r.targetType === user],
    ['targetType + targetId', { targetType: dongle, targetId: targetX }, (r) => r.targetType === dongle && r.targetId === targetX],
    [
      'all six at once',
      { actorId: actorA, action: claim, targetType: dongle, targetId: targetY, from: at(1), to: at(3) },
      (r) => r.actorId === actorA && r.action === claim && r.targetType === dongle && r.targetId === targetY && r.createdAt >= at(1) && r.createdAt < at(3),
    ],
  ];

  it.each(cases)('filters by %s, newest first', async (_name, query, match) => {
    const res = await list(query);
    expect(res.status).toBe(200);
    expect(ids(res.body)).toEqual(expected(match));
    expect(res.body.nextCursor).toBeNull();
  });

  it('presents each row with every audited field', async () => {
    const [id] = await insertAuditRows(app.db.pool, [
      { actorType: 'agent', actorId: actorB, action: `t${tag}.shape`, targetType: dongle, targetId: targetY, result: 'denied', ip: '203.0.113.9', userAgent: 'agent/1.0', details: { reason: 'x' } },
    ]);
    const res = await list({ action: `t${tag}.shape` });
    expect(res.body.items).toEqual([
      {
        id,
        createdAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/),
        actorType: 'agent',
        actorId: actorB,
        action: `t${tag}.shape`,
        targetType: dongle,
        targetId: targetY,
        result: 'denied',
        ip: '203.0.113.9',
        userAgent: 'agent/1.0',
        details: { reason: 'x' },
      },
    ]);
  });
});

describe('GET /api/admin/audit-logs pagination', () => {
  it('returns every row exactly once across pages while new rows are written', async () => {
    const actor = randomUUID();
    // Ten rows in one statement share one created_at, so pages must split them by id.
    await insertAuditRows(app.db.pool, Array.from({ length: 10 }, () => ({ actorId: actor, action: 'test.page' })));
    for (let i = 0; i < 5; i++) await insertAuditRows(app.db.pool, [{ actorId: actor, action: 'test.page' }, { actorId: actor, action: 'test.page' }]);
    const { rows } = await app.db.pool.query<{ id: string }>('SELECT id FROM audit_logs WHERE actor_id = $1 ORDER BY created_at DESC, id DESC', [actor]);
    const before = rows.map((row) => row.id);
    expect(before).toHaveLength(20);

    const seen: string[] = [];
    const written: string[] = [];
    let cursor: string | null | undefined;
    let pages = 0;
    do {
      const res = await list({ actorId: actor, limit: 3, ...(cursor ? { cursor } : {}) });
      expect(res.status).toBe(200);
      seen.push(...ids(res.body));
      cursor = res.body.nextCursor;
      pages++;
      // Newer rows for the same actor arrive between page requests.
      written.push(...(await insertAuditRows(app.db.pool, [{ actorId: actor, action: 'test.page' }, { actorId: actor, action: 'test.page' }])));
    } while (cursor);

    expect(pages).toBe(7);
    expect(seen).toEqual(before); // each row once, in order, none skipped
    expect(seen.filter((id) => written.includes(id))).toEqual([]);
  });

  it('defaults to 50 rows per page and allows up to 200', async () => {
    const actor = randomUUID();
    await insertAuditRows(app.db.pool, Array.from({ length: 60 }, () => ({ actorId: actor })));
    const first = await list({ actorId: actor });
    expect(first.body.items).toHaveLength(50);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const rest = await list({ actorId: actor, cursor: first.body.nextCursor });
    expect(rest.body.items).toHaveLength(10);
    expect(rest.body.nextCursor).toBeNull();
    expect((await list({ actorId: actor, limit: 200 })).body.items).toHaveLength(60);
  });
});

describe('GET /api/admin/audit-logs validation', () => {
  const refused: [string, Record<string, string>, string][] = [
    ['an unknown parameter', { actor: 'x' }, 'query'],
    ['a malformed actorId', { actorId: 'not-a-uuid' }, 'query.actorId'],
    ['a date without a time zone', { from: '2026-01-01T10:00:00' }, 'query.from'],
    ['an impossible date', { to: '2026-13-45T00:00:00Z' }, 'query.to'],
    ['from after to', { from: '2026-02-01T00:00:00Z', to: '2026-01-01T00:00:00Z' }, 'query.from'],
    ['limit 0', { limit: '0' }, 'query.limit'],
    ['limit 201', { limit: '201' }, 'query.limit'],
    ['a non-numeric limit', { limit: 'ten' }, 'query.limit'],
    ['a malformed cursor', { cursor: 'not a cursor!' }, 'query.cursor'],
    ['a cursor that decodes to nonsense', { cursor: Buffer.from('yesterday|42').toString('base64url') }, 'query.cursor'],
    ['an empty action', { action: '' }, 'query.action'],
  ];

  it.each(refused)('answers 422 for %s, naming the field', async (_name, query, path) => {
    const res = await list(query);
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('validation_failed');
    expect(res.body.error.details.map((d: { path: string }) => d.path)).toContain(path);
  });

  it('answers 422 for a repeated filter', async () => {
    const res = await admin.agent.get(`/api/admin/audit-logs?actorId=${randomUUID()}&actorId=${randomUUID()}`);
    expect(res.status).toBe(422);
  });

  it('accepts a cursor it issued and a date-only bound', async () => {
    const cursor = encodeCursor(['2020-01-01T00:00:00.000000Z', randomUUID()]);
    const res = await list({ actorId: randomUUID(), cursor, from: '2019-01-01' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ items: [], nextCursor: null });
  });
});

describe('GET /api/admin/audit-logs access', () => {
  it('answers 401 without a session', async () => {
    expect((await app.http.get('/api/admin/audit-logs')).status).toBe(401);
  });

  it('answers 403 to a non-admin and audits the denial', async () => {
    const operator = await createLoggedInUser(app.db, app.url);
    const res = await operator.agent.get('/api/admin/audit-logs').query({ actorId: operator.user.id });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('forbidden');
    expect((await operator.agent.get('/api/admin/audit-logs/export')).status).toBe(403);

    // The denial is in the log, and an admin finds it through the review itself.
    const found = await list({ actorId: operator.user.id, action: 'admin.access_denied' });
    expect(found.body.items.map((item: { result: string; details: { path: string } }) => [item.result, item.details.path])).toEqual([
      ['denied', '/api/admin/audit-logs/export'],
      ['denied', '/api/admin/audit-logs'],
    ]);
  });
});
