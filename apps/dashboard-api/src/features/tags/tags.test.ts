// Tags and selectors over real HTTP and PostgreSQL: set/remove one, bulk by ids and by selector,
// the per-dongle limit, the list filtered by a selector, and malformed selectors (422 naming
// the bad term).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activeDongle, createOperator, csrf, startFleetApp, type Operator } from '../../../test/support/fleet.ts';
import type { TestApp } from '../../../test/support/test-app.ts';
import { parseSelector } from '../dongles/tag-selector.ts';

describe('selector parser', () => {
  it('accepts the four term kinds with spaces around them', () => {
    const parsed = parseSelector(' env=prod , site!=lab-2,retired, !beta ');
    expect(parsed).toEqual({
      ok: true,
      terms: [
        { kind: 'eq', key: 'env', value: 'prod' },
        { kind: 'neq', key: 'site', value: 'lab-2' },
        { kind: 'exists', key: 'retired' },
        { kind: 'absent', key: 'beta' },
      ],
    });
  });

  it.each([
    ['', 'must not be empty'],
    ['env=prod,,site=a', 'term 2'],
    ['env=prod,', 'term 2'],
    ['=prod', 'the key is missing'],
    ['env=', 'the value is missing'],
    ['!env=prod', 'takes no value'],
    ['env==prod', 'more than one "="'],
    ['env=pr od', 'the value must be'],
    ['-env=prod', 'the key must be'],
    ['env=prod;drop', 'the value must be'],
    [Array.from({ length: 21 }, (_, i) => `k${i}`).join(','), 'at most 20'],
    ['x'.repeat(1001), 'at most 1000 characters'],
  ])('refuses %j (%s)', (text, message) => {
    const parsed = parseSelector(text);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.problems.map((p) => p.message).join(' | ')).toContain(message);
  });
});

let app: TestApp;
let owner: Operator;
let other: Operator;
beforeAll(async () => {
  app = await startFleetApp();
  owner = await createOperator(app);
  other = await createOperator(app);
});
afterAll(() => app.stop());

const ids = (res: { body: { items: { id: string }[] } }) => res.body.items.map((d) => d.id).sort();

describe('dongle tags', () => {
  it('sets, replaces and removes one tag, auditing each change', async () => {
    const dongle = await activeDongle(app, owner);
    const set = await owner.agent.put(`/api/dongles/${dongle.id}/tags/env`).set(csrf(owner)).send({ value: 'prod' });
    expect(set.status, JSON.stringify(set.body)).toBe(200);
    expect(set.body.tags).toEqual({ env: 'prod' });
    await owner.agent.put(`/api/dongles/${dongle.id}/tags/env`).set(csrf(owner)).send({ value: 'staging' }).expect(200);
    const removed = await owner.agent.delete(`/api/dongles/${dongle.id}/tags/env`).set(csrf(owner)).expect(200);
    expect(removed.body.tags).toEqual({});
    const audit = await app.db.prisma.auditLog.findMany({ where: { targetId: dongle.id, action: { startsWith: 'dongle.tag.' } }, orderBy: { createdAt: 'asc' } });
    expect(audit.map((a) => [a.action, a.details])).toEqual([
      ['dongle.tag.set', { tag: 'env', from: null, to: 'prod' }],
      ['dongle.tag.set', { tag: 'env', from: 'prod', to: 'staging' }],
      ['dongle.tag.remove', { tag: 'env', from: 'staging', to: null }],
    ]);
    expect((await owner.agent.get(`/api/dongles/${dongle.id}`)).body.tags).toEqual({});
  });

  it('refuses a bad key or value with 422 and a 21st tag with too_many_tags', async () => {
    const dongle = await activeDongle(app, owner);
    const badValue = await owner.agent.put(`/api/dongles/${dongle.id}/tags/env`).set(csrf(owner)).send({ value: 'a b' });
    expect(badValue.status).toBe(422);
    expect(badValue.body.error.details[0].path).toBe('body.value');
    const badKey = await owner.agent.put(`/api/dongles/${dongle.id}/tags/-x`).set(csrf(owner)).send({ value: 'a' });
    expect(badKey.status).toBe(422);
    expect(badKey.body.error.details[0].path).toBe('params.key');
    const twenty = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, 'v']));
    await owner.agent.post('/api/dongles/tags/bulk').set(csrf(owner)).send({ dongleIds: [dongle.id], set: twenty }).expect(200);
    const extra = await owner.agent.put(`/api/dongles/${dongle.id}/tags/one-more`).set(csrf(owner)).send({ value: 'v' });
    expect(extra.status).toBe(422);
    expect(extra.body.error.code).toBe('too_many_tags');
    const bulkExtra = await owner.agent.post('/api/dongles/tags/bulk').set(csrf(owner)).send({ dongleIds: [dongle.id], set: { more: 'v' } });
    expect(bulkExtra.body.error.code).toBe('too_many_tags');
    expect(Object.keys((await owner.agent.get(`/api/dongles/${dongle.id}/tags`)).body.tags)).toHaveLength(20);
  });

  it('bulk-tags by ids and by selector, and the list filters by every term kind', async () => {
    const [a, b, c] = [await activeDongle(app, owner), await activeDongle(app, owner), await activeDongle(app, owner)];
    const run = `r${Date.now().toString(36)}`;
    await owner.agent.post('/api/dongles/tags/bulk').set(csrf(owner)).send({ dongleIds: [a.id, b.id, c.id], set: { run, env: 'prod' } }).expect(200);
    await owner.agent.post('/api/dongles/tags/bulk').set(csrf(owner)).send({ dongleIds: [c.id], set: { env: 'lab', retired: 'yes' } }).expect(200);
    const bySelector = await owner.agent.post('/api/dongles/tags/bulk').set(csrf(owner)).send({ selector: `run=${run},env=prod`, set: { site: 'lab-2' } });
    expect(bySelector.body).toEqual({ matched: 2, changed: 2 });

    const list = (selector: string) => owner.agent.get('/api/dongles').query({ selector: `run=${run},${selector}`, limit: 200 });
    expect(ids(await list('env=prod'))).toEqual([a.id, b.id].sort());
    expect(ids(await list('env!=prod'))).toEqual([c.id]);
    expect(ids(await list('retired'))).toEqual([c.id]);
    expect(ids(await list('!retired'))).toEqual([a.id, b.id].sort());
    expect(ids(await list('env=prod,site=lab-2,!retired'))).toEqual([a.id, b.id].sort());
    expect(ids(await list('env=prod,env=lab'))).toEqual([]);
    const audit = await app.db.prisma.auditLog.findFirst({ where: { actorId: owner.user.id, action: 'dongle.tag.bulk' }, orderBy: { createdAt: 'desc' } });
    expect(audit?.details).toMatchObject({ matched: 2, changed: 2, selector: `run=${run},env=prod` });
  });

  it('answers a malformed selector with 422 naming each bad term', async () => {
    const res = await owner.agent.get('/api/dongles').query({ selector: 'env=prod,,!x=y' });
    expect(res.status).toBe(422);
    expect(res.body.error.details.map((d: { path: string; message: string }) => [d.path, d.message.slice(0, 6)])).toEqual([
      ['query.selector', 'term 2'],
      ['query.selector', 'term 3'],
    ]);
  });

  it("never touches another user's dongles: 404 by id, no match by selector", async () => {
    const theirs = await activeDongle(app, other);
    const mine = await activeDongle(app, owner);
    expect((await owner.agent.put(`/api/dongles/${theirs.id}/tags/env`).set(csrf(owner)).send({ value: 'x' })).status).toBe(404);
    expect((await owner.agent.delete(`/api/dongles/${theirs.id}/tags/env`).set(csrf(owner))).status).toBe(404);
    expect((await owner.agent.get(`/api/dongles/${theirs.id}/tags`)).status).toBe(404);
    const mixed = await owner.agent.post('/api/dongles/tags/bulk').set(csrf(owner)).send({ dongleIds: [mine.id, theirs.id], set: { env: 'x' } });
    expect(mixed.status).toBe(404);
    expect((await owner.agent.get(`/api/dongles/${mine.id}/tags`)).body.tags).toEqual({}); // nothing changed
    await other.agent.put(`/api/dongles/${theirs.id}/tags/owner`).set(csrf(other)).send({ value: 'other' }).expect(200);
    const bySelector = await owner.agent.post('/api/dongles/tags/bulk').set(csrf(owner)).send({ selector: 'owner=other', set: { env: 'x' } });
    expect(bySelector.body).toEqual({ matched: 0, changed: 0 });
    expect((await app.db.prisma.dongle.findUnique({ where: { id: theirs.id } }))?.tags).toEqual({ owner: 'other' });
  });
});
