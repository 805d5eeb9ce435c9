// Operator command routes over HTTP on the real database.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDongle, createLoggedInUser } from '../../../test/support/factories.ts';
import { startTestApp, type TestApp } from '../../../test/support/test-app.ts';
import { createFleet } from '../../../test/support/command-fixtures.ts';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.stop());

const fields = (res: { body: { error?: { details?: { path?: string }[] } } }) => (res.body.error?.details ?? []).map((d) => d.path);

describe('POST /api/dongles/:id/commands', () => {
  it('queues a command with the default TTL, audited', async () => {
    const fleet = await createFleet(app);
    const res = await fleet.send(fleet.dongle.id, { type: 'PING', payload: { echo: 'hi' } });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ dongleId: fleet.dongle.id, type: 'PING', status: 'QUEUED', payload: { echo: 'hi' }, createdByUserId: fleet.operator.user.id, timeoutSeconds: 30 });
    expect(Date.parse(res.body.expiresAt) - Date.parse(res.body.createdAt)).toBeCloseTo(60_000, -3);
    const audit = await app.db.prisma.auditLog.findFirst({ where: { action: 'command.create', targetId: res.body.id } });
    expect(audit).toMatchObject({ actorType: 'user', actorId: fleet.operator.user.id });
  });

  it('accepts every operator type with its payload, and a TTL up to one hour', async () => {
    const fleet = await createFleet(app);
    const bodies = [
      { type: 'GET_STATUS' },
      { type: 'REBOOT', payload: {} },
      { type: 'SEND_FRAME', payload: { canId: 0x7ff, data: 'DEADBEEF' } },
      { type: 'SEND_FRAME', payload: { canId: 0x1fffffff, extended: true, fd: true, brs: true, data: '00'.repeat(64) } },
      { type: 'START_CAPTURE', payload: { durationSeconds: 10 } },
      { type: 'STOP_CAPTURE' },
      { type: 'PING', ttlSeconds: 3600 },
    ];
    for (const body of bodies) {
      const res = await fleet.send(fleet.dongle.id, body);
      expect(res.status, JSON.stringify(body)).toBe(201);
    }
    const frame = await fleet.send(fleet.dongle.id, { type: 'SEND_FRAME', payload: { canId: 1, data: 'AbCd' } });
    expect(frame.body.payload).toEqual({ canId: 1, data: 'abcd', extended: false, fd: false, brs: false });
  });

  it('refuses bad payloads with 422 naming the field', async () => {
    const fleet = await createFleet(app);
    const cases: [unknown, string][] = [
      [{ type: 'SEND_FRAME', payload: { canId: 0x800, data: '00' } }, 'body.payload.canId'],
      [{ type: 'SEND_FRAME', payload: { canId: 0x20000000, extended: true, data: '00' } }, 'body.payload.canId'],
      [{ type: 'SEND_FRAME', payload: { canId: 1, data: '00'.repeat(9) } }, 'body.payload.data'],
      [{ type: 'SEND_FRAME', payload: { canId: 1, fd: true, data: '00'.repeat(9) } }, 'body.payload.data'],
      [{ type: 'SEND_FRAME', payload: { canId: 1, fd: true, data: '00'.repeat(65) } }, 'body.payload.data'],
      [{ type: 'SEND_FRAME', payload: { canId: 1, data: 'xyz' } }, 'body.payload.data'],
      [{ type: 'SEND_FRAME', payload: { canId: 1 } }, 'body.payload.data'],
      [{ type: 'SEND_FRAME', payload: { canId: 1, data: '00', brs: true } }, 'body.payload.brs'],
      [{ type: 'PING', payload: { unknown: 1 } }, 'body.payload'],
      [{ type: 'REBOOT', payload: { force: true } }, 'body.payload'],
      [{ type: 'START_CAPTURE', payload: { durationSeconds: 0 } }, 'body.payload.durationSeconds'],
      [{ type: 'PING', ttlSeconds: 3601 }, 'body.ttlSeconds'],
      [{ type: 'PING', ttlSeconds: 0 }, 'body.ttlSeconds'],
      [{ type: 'FORMAT_DISK' }, 'body.type'],
      [{ type: 'PING', ownerUserId: 'x' }, 'body'],
    ];
    for (const [body, field] of cases) {
      const res = await fleet.send(fleet.dongle.id, body);
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect(fields(res), JSON.stringify(body)).toContain(field);
    }
  });

  it('refuses APPLY_CAN_CONFIG from the API: only the CAN-config PUT creates it', async () => {
    const fleet = await createFleet(app);
    const res = await fleet.send(fleet.dongle.id, { type: 'APPLY_CAN_CONFIG', payload: { version: 1 } });
    expect(res.status).toBe(422);
    expect(fields(res)).toContain('body.type');
  });

  it("returns 404 for another user's dongle and 409 for an own dongle that is not CLAIMED_ACTIVE", async () => {
    const fleet = await createFleet(app);
    const stranger = await createLoggedInUser(app.db, app.url);
    const theirs = await createDongle(app.db, { ownerUserId: stranger.user.id });
    expect((await fleet.send(theirs.id, { type: 'PING' })).status).toBe(404);
    for (const state of ['CLAIM_PENDING', 'RELEASE_PENDING'] as const) {
      const dongle = await createDongle(app.db, { ownerUserId: fleet.operator.user.id, state });
      const res = await fleet.send(dongle.id, { type: 'PING' });
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe('dongle_not_active');
    }
  });

  it('needs the CSRF token and a session', async () => {
    const fleet = await createFleet(app);
    expect((await fleet.operator.agent.post(`/api/dongles/${fleet.dongle.id}/commands`).send({ type: 'PING' })).status).toBe(403);
    expect((await app.http.post(`/api/dongles/${fleet.dongle.id}/commands`).send({ type: 'PING' })).status).toBe(401);
  });
});

describe('Idempotency-Key on command creation', () => {
  it('turns twenty identical concurrent creations into one command', async () => {
    const fleet = await createFleet(app);
    const body = { type: 'SEND_FRAME', payload: { canId: 0x123, data: '0102' } };
    const responses = await Promise.all(Array.from({ length: 20 }, () => fleet.send(fleet.dongle.id, body, 'same-key-20')));
    const statuses = responses.map((r) => r.status);
    // Each duplicate either waits out the first (replay, 201) or arrives while it runs (409).
    expect(statuses.every((s) => s === 201 || s === 409)).toBe(true);
    expect(await app.db.prisma.command.count({ where: { dongleId: fleet.dongle.id } })).toBe(1);
    const ids = new Set(responses.filter((r) => r.status === 201).map((r) => r.body.id));
    expect(ids.size).toBe(1);
    // Once the first has finished, a retry replays it.
    const replay = await fleet.send(fleet.dongle.id, body, 'same-key-20');
    expect(replay.status).toBe(201);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body.id).toBe([...ids][0]);
  });

  it('refuses the same key with another body with 422, and scopes keys per user', async () => {
    const fleet = await createFleet(app);
    const first = await fleet.send(fleet.dongle.id, { type: 'PING' }, 'key-1');
    expect(first.status).toBe(201);
    const other = await fleet.send(fleet.dongle.id, { type: 'REBOOT' }, 'key-1');
    expect(other.status).toBe(422);
    expect(other.body.error.code).toBe('idempotency_key_reused');
    const elsewhere = await createFleet(app);
    const theirs = await elsewhere.send(elsewhere.dongle.id, { type: 'PING' }, 'key-1');
    expect(theirs.status).toBe(201);
    expect(theirs.body.id).not.toBe(first.body.id);
  });

  it('does not keep a failed attempt: the key can be retried after a 4xx', async () => {
    const fleet = await createFleet(app);
    const pending = await createDongle(app.db, { ownerUserId: fleet.operator.user.id, state: 'CLAIM_PENDING' });
    expect((await fleet.send(pending.id, { type: 'PING' }, 'retry-me')).status).toBe(409);
    await app.db.prisma.dongle.update({ where: { id: pending.id }, data: { ownershipState: 'CLAIMED_ACTIVE' } });
    expect((await fleet.send(pending.id, { type: 'PING' }, 'retry-me')).status).toBe(201);
  });

  it('does not create a second command when a crash left the key in flight after the command committed', async () => {
    const fleet = await createFleet(app);
    const body = { type: 'REBOOT' };
    const first = await fleet.send(fleet.dongle.id, body, 'crash-key');
    expect(first.status).toBe(201);
    // The crash: the command committed but its response was never stored, and the in-flight
    // row is past the 120 s takeover.
    await app.db.pool.query(
      `UPDATE idempotency_keys SET response_status = NULL, response_body = NULL, created_at = now() - interval '3 minutes' WHERE key = 'crash-key' AND scope LIKE $1`,
      [`user:${fleet.operator.user.id}:%`],
    );
    const retry = await fleet.send(fleet.dongle.id, body, 'crash-key');
    expect(retry.status).toBe(201);
    expect(retry.body.id).toBe(first.body.id);
    expect(await app.db.prisma.command.count({ where: { dongleId: fleet.dongle.id } })).toBe(1);
    // The takeover stored the replayed response: the next retry is an ordinary replay.
    const again = await fleet.send(fleet.dongle.id, body, 'crash-key');
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body.id).toBe(first.body.id);
  });

  it('records the command on its key in the transaction that created it', async () => {
    const fleet = await createFleet(app);
    const created = await fleet.send(fleet.dongle.id, { type: 'PING' }, 'named-key');
    expect(created.status).toBe(201);
    const { rows } = await app.db.pool.query(`SELECT resource_id::text AS resource_id FROM idempotency_keys WHERE key = 'named-key' AND scope LIKE $1`, [
      `user:${fleet.operator.user.id}:%`,
    ]);
    expect(rows).toEqual([{ resource_id: created.body.id }]);
  });

  it('refuses another body after a crash left the key in flight once the command committed', async () => {
    const fleet = await createFleet(app);
    const first = await fleet.send(fleet.dongle.id, { type: 'REBOOT' }, 'crash-other');
    expect(first.status).toBe(201);
    await app.db.pool.query(
      `UPDATE idempotency_keys SET response_status = NULL, response_body = NULL, created_at = now() - interval '3 minutes' WHERE key = 'crash-other' AND scope LIKE $1`,
      [`user:${fleet.operator.user.id}:%`],
    );
    const other = await fleet.send(fleet.dongle.id, { type: 'PING' }, 'crash-other');
    expect(other.status).toBe(422);
    expect(other.body.error.code).toBe('idempotency_key_reused');
    // The same request still gets its command back.
    const retry = await fleet.send(fleet.dongle.id, { type: 'REBOOT' }, 'crash-other');
    expect(retry.status).toBe(201);
    expect(retry.body.id).toBe(first.body.id);
    expect(await app.db.prisma.command.count({ where: { dongleId: fleet.dongle.id } })).toBe(1);
  });

  it('refuses a malformed key with 422', async () => {
    const fleet = await createFleet(app);
    const res = await fleet.send(fleet.dongle.id, { type: 'PING' }, 'x'.repeat(300));
    expect(res.status).toBe(422);
    expect(fields(res)).toContain('headers.idempotency-key');
  });
});

describe('GET /api/dongles/:id/commands', () => {
  it('lists newest first with a status filter and keyset pages', async () => {
    const fleet = await createFleet(app);
    const created: string[] = [];
    for (let i = 0; i < 7; i++) created.push((await fleet.send(fleet.dongle.id, { type: 'PING', payload: { echo: String(i) } })).body.id);
    await fleet.operator.agent.post(`/api/commands/${created[2]}/cancel`).set('X-CSRF-Token', fleet.operator.csrfToken).expect(200);

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const url: string = `/api/dongles/${fleet.dongle.id}/commands?limit=3${cursor ? `&cursor=${cursor}` : ''}`;
      const page = await fleet.operator.agent.get(url);
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(3);
      seen.push(...page.body.items.map((c: { id: string }) => c.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual([...created].reverse());

    const cancelled = await fleet.operator.agent.get(`/api/dongles/${fleet.dongle.id}/commands?status=CANCELLED`);
    expect(cancelled.body.items.map((c: { id: string }) => c.id)).toEqual([created[2]]);
    expect((await fleet.operator.agent.get(`/api/dongles/${fleet.dongle.id}/commands?status=NOPE`)).status).toBe(422);
    expect((await fleet.operator.agent.get(`/api/dongles/${fleet.dongle.id}/commands?limit=201`)).status).toBe(422);
    expect((await fleet.operator.agent.get(`/api/dongles/${fleet.dongle.id}/commands?cursor=garbage`)).status).toBe(422);
  });

  it('refuses a cursor it did not issue with 422, including the old id-only form', async () => {
    const fleet = await createFleet(app);
    await fleet.send(fleet.dongle.id, { type: 'PING' });
    const list = (cursor: string) => fleet.operator.agent.get(`/api/dongles/${fleet.dongle.id}/commands?cursor=${cursor}`);
    const idOnly = Buffer.from('00000000-0000-4000-8000-000000000000').toString('base64url');
    const notJson = Buffer.from('{{{').toString('base64url');
    const badTime = Buffer.from(JSON.stringify(['yesterday', '00000000-0000-4000-8000-000000000000'])).toString('base64url');
    for (const cursor of [idOnly, notJson, badTime]) {
      const res = await list(cursor);
      expect(res.status, cursor).toBe(422);
      expect(fields(res)).toContain('query.cursor');
    }
  });

  it("returns 404 for another user's dongle and command", async () => {
    const fleet = await createFleet(app);
    const command = (await fleet.send(fleet.dongle.id, { type: 'PING' })).body;
    const stranger = await createLoggedInUser(app.db, app.url);
    expect((await stranger.agent.get(`/api/dongles/${fleet.dongle.id}/commands`)).status).toBe(404);
    expect((await stranger.agent.get(`/api/commands/${command.id}`)).status).toBe(404);
    expect((await stranger.agent.post(`/api/commands/${command.id}/cancel`).set('X-CSRF-Token', stranger.csrfToken)).status).toBe(404);
    expect((await fleet.operator.agent.get(`/api/commands/${command.id}`)).body).toMatchObject({ id: command.id, status: 'QUEUED' });
  });
});

describe('POST /api/commands/:id/cancel', () => {
  it('cancels a QUEUED command once; a second cancel is 409', async () => {
    const fleet = await createFleet(app);
    const command = (await fleet.send(fleet.dongle.id, { type: 'REBOOT' })).body;
    const cancel = () => fleet.operator.agent.post(`/api/commands/${command.id}/cancel`).set('X-CSRF-Token', fleet.operator.csrfToken);
    const res = await cancel();
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('CANCELLED');
    expect(await app.db.prisma.auditLog.count({ where: { action: 'command.cancel', targetId: command.id } })).toBe(1);
    const again = await cancel();
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('command_not_cancellable');
  });

  it('refuses to cancel after delivery with 409', async () => {
    const fleet = await createFleet(app);
    const command = (await fleet.send(fleet.dongle.id, { type: 'REBOOT' })).body;
    const poll = await app.http.get('/api/agent/commands?wait=0').set('Authorization', fleet.agent.authorization);
    expect(poll.body.commands.map((c: { id: string }) => c.id)).toEqual([command.id]);
    const res = await fleet.operator.agent.post(`/api/commands/${command.id}/cancel`).set('X-CSRF-Token', fleet.operator.csrfToken);
    expect(res.status).toBe(409);
    expect((await app.db.prisma.command.findUnique({ where: { id: command.id } }))?.status).toBe('DELIVERED');
  });
});
