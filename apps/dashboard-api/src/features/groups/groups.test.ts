// Groups over HTTP: pairing two of my CLAIMED_ACTIVE dongles, one group per dongle in either
// slot (also under races), mode changes, deletion, and release dissolving a group.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activeDongle, createOperator, csrf, heartbeat, claim, startFleetApp, type Operator } from '../../../test/support/fleet.ts';
import { randomDeviceId } from '../../../test/support/factories.ts';
import type { TestApp } from '../../../test/support/test-app.ts';
import { AppError } from '../../platform/errors.ts';
import { mapConstraintViolation } from './groups.service.ts';
import { personalOrganizationId } from '../organizations/personal.ts';

let app: TestApp;
beforeAll(async () => {
  app = await startFleetApp();
});
afterAll(() => app.stop());

const createGroup = (who: Operator, body: Record<string, unknown>) => who.agent.post('/api/groups').set(csrf(who)).send(body);

describe('creating a group', () => {
  it('pairs two of my active dongles: 201, audited, visible on both dongles', async () => {
    const me = await createOperator(app);
    const a = await activeDongle(app, me);
    const b = await activeDongle(app, me);
    const res = await createGroup(me, { dongleAId: a.id, dongleBId: b.id, mode: 'PAUSED' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ dongleAId: a.id, dongleBId: b.id, mode: 'PAUSED', name: null });
    expect(JSON.stringify(res.body)).not.toContain(me.user.id);
    expect((await me.agent.get(`/api/dongles/${a.id}`)).body.groupId).toBe(res.body.id);
    expect((await me.agent.get(`/api/dongles/${b.id}`)).body.groupId).toBe(res.body.id);
    expect(await app.db.prisma.auditLog.count({ where: { action: 'group.create', targetId: res.body.id } })).toBe(1);
  });

  it('defaults the mode to ACTIVE', async () => {
    const me = await createOperator(app);
    const [a, b] = [await activeDongle(app, me), await activeDongle(app, me)];
    expect((await createGroup(me, { dongleAId: a.id, dongleBId: b.id })).body.mode).toBe('ACTIVE');
  });

  it('answers the same dongle twice with 422 naming dongleBId', async () => {
    const me = await createOperator(app);
    const a = await activeDongle(app, me);
    const res = await createGroup(me, { dongleAId: a.id, dongleBId: a.id });
    expect(res.status).toBe(422);
    expect(res.body.error.details.map((d: { path: string }) => d.path)).toContain('body.dongleBId');
  });

  it('answers unknown keys, a bad mode and non-uuids with 422 naming them', async () => {
    const me = await createOperator(app);
    const res = await createGroup(me, { dongleAId: 'x', dongleBId: 'y', mode: 'ON', userId: me.user.id });
    expect(res.status).toBe(422);
    expect(res.body.error.details.map((d: { path: string }) => d.path)).toEqual(expect.arrayContaining(['body.dongleAId', 'body.dongleBId', 'body.mode', 'body']));
  });

  it('answers 409 when a dongle is already grouped, in either slot', async () => {
    const me = await createOperator(app);
    const [a, b, c] = [await activeDongle(app, me), await activeDongle(app, me), await activeDongle(app, me)];
    expect((await createGroup(me, { dongleAId: a.id, dongleBId: b.id })).status).toBe(201);
    for (const body of [{ dongleAId: c.id, dongleBId: a.id }, { dongleAId: b.id, dongleBId: c.id }, { dongleAId: a.id, dongleBId: c.id }, { dongleAId: c.id, dongleBId: b.id }]) {
      const res = await createGroup(me, body);
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe('dongle_already_grouped');
    }
    expect(await app.db.prisma.dongleGroup.count({ where: { userId: me.user.id } })).toBe(1);
  });

  it('answers 409 dongle_not_active for a dongle still CLAIM_PENDING', async () => {
    const me = await createOperator(app);
    const a = await activeDongle(app, me);
    const pending = randomDeviceId();
    await heartbeat(app, me.agentAuth, [pending]);
    const claimed = await claim(app, me, pending);
    const res = await createGroup(me, { dongleAId: a.id, dongleBId: claimed.body.id });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('dongle_not_active');
  });

  it("answers 404 when one dongle is someone else's, and creates nothing", async () => {
    const me = await createOperator(app);
    const stranger = await createOperator(app);
    const mine = await activeDongle(app, me);
    const theirs = await activeDongle(app, stranger);
    expect((await createGroup(me, { dongleAId: mine.id, dongleBId: theirs.id })).status).toBe(404);
    expect((await createGroup(me, { dongleAId: theirs.id, dongleBId: mine.id })).status).toBe(404);
    expect(await app.db.prisma.dongleGroupMember.count({ where: { dongleId: { in: [mine.id, theirs.id] } } })).toBe(0);
  });

  it('lets exactly one of several concurrent creations sharing a dongle win; the rest are 409', async () => {
    const me = await createOperator(app);
    const shared = await activeDongle(app, me);
    const others = await Promise.all(Array.from({ length: 6 }, () => activeDongle(app, me)));
    const results = await Promise.all(
      others.map((other, i) => createGroup(me, i % 2 === 0 ? { dongleAId: shared.id, dongleBId: other.id } : { dongleAId: other.id, dongleBId: shared.id })),
    );
    expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409, 409, 409, 409]);
    expect(await app.db.prisma.dongleGroupMember.count({ where: { dongleId: shared.id } })).toBe(1);
  });

  it('maps the database’s own refusals to 409 and 422, never a 500', async () => {
    const me = await createOperator(app);
    const [a, b, c] = [await activeDongle(app, me), await activeDongle(app, me), await activeDongle(app, me)];
    await app.db.prisma.dongleGroup.create({ data: { userId: me.user.id, organizationId: await personalOrganizationId(app.db.prisma, me.user.id), dongleAId: a.id, dongleBId: b.id } });
    const crossSlot = await app.db.prisma.dongleGroup.create({ data: { userId: me.user.id, organizationId: await personalOrganizationId(app.db.prisma, me.user.id), dongleAId: c.id, dongleBId: a.id } }).catch((e: unknown) => e);
    const mappedUnique = mapConstraintViolation(crossSlot);
    expect(mappedUnique).toBeInstanceOf(AppError);
    expect((mappedUnique as AppError).status).toBe(409);
    const same = await app.db.prisma.dongleGroup.create({ data: { userId: me.user.id, organizationId: await personalOrganizationId(app.db.prisma, me.user.id), dongleAId: c.id, dongleBId: c.id } }).catch((e: unknown) => e);
    const mappedCheck = mapConstraintViolation(same);
    expect(mappedCheck).toBeInstanceOf(AppError);
    expect((mappedCheck as AppError).status).toBe(422);
  });
});

describe('reading, changing and deleting groups', () => {
  it('lists, gets, changes the mode and deletes my group; each change audited', async () => {
    const me = await createOperator(app);
    const [a, b] = [await activeDongle(app, me), await activeDongle(app, me)];
    const created = await createGroup(me, { dongleAId: a.id, dongleBId: b.id });
    const list = await me.agent.get('/api/groups');
    expect(list.body).toEqual({ items: [created.body], nextCursor: null });
    expect((await me.agent.get(`/api/groups/${created.body.id}`)).body).toEqual(created.body);
    const paused = await me.agent.patch(`/api/groups/${created.body.id}`).set(csrf(me)).send({ mode: 'PAUSED', name: 'bridge' });
    expect(paused.status).toBe(200);
    expect(paused.body).toMatchObject({ mode: 'PAUSED', name: 'bridge' });
    expect((await me.agent.patch(`/api/groups/${created.body.id}`).set(csrf(me)).send({})).status).toBe(422);
    expect((await me.agent.patch(`/api/groups/${created.body.id}`).set(csrf(me)).send({ dongleAId: b.id })).status).toBe(422);
    expect((await me.agent.delete(`/api/groups/${created.body.id}`).set(csrf(me))).status).toBe(204);
    expect((await me.agent.get(`/api/groups/${created.body.id}`)).status).toBe(404);
    expect(await app.db.prisma.dongleGroupMember.count({ where: { dongleId: { in: [a.id, b.id] } } })).toBe(0);
    const actions = (await app.db.prisma.auditLog.findMany({ where: { targetId: created.body.id }, orderBy: { createdAt: 'asc' } })).map((r) => r.action);
    expect(actions).toEqual(['group.create', 'group.update', 'group.delete']);
  });

  it('dissolves the group when one of its dongles is released', async () => {
    const me = await createOperator(app);
    const [a, b] = [await activeDongle(app, me), await activeDongle(app, me)];
    const created = await createGroup(me, { dongleAId: a.id, dongleBId: b.id });
    const released = await me.agent.post(`/api/dongles/${b.id}/release`).set(csrf(me));
    expect(released.body.groupId).toBeNull();
    expect((await me.agent.get(`/api/groups/${created.body.id}`)).status).toBe(404);
    expect((await me.agent.get(`/api/dongles/${a.id}`)).body.groupId).toBeNull();
    const audit = await app.db.prisma.auditLog.findFirstOrThrow({ where: { action: 'group.delete', targetId: created.body.id } });
    expect(audit.details).toMatchObject({ reason: 'dongle_released' });
  });
});
