// CAN configuration over HTTP: defaults at version 0, If-Match concurrency (428/412), §5
// validation as 422s naming the field, version bumps and the queued APPLY_CAN_CONFIG command.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomDeviceId } from '../../../test/support/factories.ts';
import { activeDongle, claim, createOperator, csrf, heartbeat, startFleetApp, type Operator } from '../../../test/support/fleet.ts';
import type { TestApp } from '../../../test/support/test-app.ts';

let app: TestApp;
beforeAll(async () => {
  app = await startFleetApp();
});
afterAll(() => app.stop());

const valid = { mode: 'NORMAL', nominalBitrate: 500_000, nominalSamplePoint: 87.5, nominalPrescaler: 10, nominalSeg1: 13, nominalSeg2: 2, termination: true };
const put = (who: Operator, id: string, body: unknown, ifMatch?: string) => {
  const req = who.agent.put(`/api/dongles/${id}/can-config`).set(csrf(who));
  return (ifMatch === undefined ? req : req.set('If-Match', ifMatch)).send(body as object);
};
const paths = (res: { body: { error: { details?: Array<{ path: string }> } } }) => (res.body.error.details ?? []).map((d) => d.path);

describe('GET /api/dongles/:id/can-config', () => {
  it('answers the defaults with version 0 before the first change, with an ETag', async () => {
    const me = await createOperator(app);
    const dongle = await activeDongle(app, me);
    const res = await me.agent.get(`/api/dongles/${dongle.id}/can-config`);
    expect(res.status).toBe(200);
    expect(res.headers.etag).toBe('"0"');
    expect(res.body).toMatchObject({ dongleId: dongle.id, version: 0, appliedVersion: 0, mode: 'NORMAL', nominalBitrate: 500_000, nominalSamplePoint: 87.5, fdEnabled: false, autoRetransmit: true, updatedAt: null });
  });
});

describe('PUT /api/dongles/:id/can-config', () => {
  it('stores the configuration, bumps the version and queues APPLY_CAN_CONFIG in the same transaction', async () => {
    const me = await createOperator(app);
    const dongle = await activeDongle(app, me);
    const first = await put(me, dongle.id, valid, '0');
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(first.headers.etag).toBe('"1"');
    expect(first.body).toMatchObject({ version: 1, appliedVersion: 0, termination: true, nominalPrescaler: 10, applyCommandId: expect.any(String) });
    const command = await app.db.prisma.command.findUniqueOrThrow({ where: { id: first.body.applyCommandId } });
    expect(command).toMatchObject({ dongleId: dongle.id, type: 'APPLY_CAN_CONFIG', status: 'QUEUED', createdByUserId: me.user.id });
    expect(command.payload).toMatchObject({ version: 1, config: { nominalBitrate: 500_000, nominalSeg1: 13, termination: true } });
    const second = await put(me, dongle.id, { ...valid, mode: 'LISTEN_ONLY' }, '"1"');
    expect(second.status).toBe(200);
    expect(second.body.version).toBe(2);
    expect((await me.agent.get(`/api/dongles/${dongle.id}`)).body.canConfigVersion).toBe(2);
    const audit = await app.db.prisma.auditLog.findFirstOrThrow({ where: { action: 'can_config.update', targetId: dongle.id, details: { path: ['toVersion'], equals: 2 } } });
    expect(audit.details).toMatchObject({ fromVersion: 1, changes: { mode: { from: 'NORMAL', to: 'LISTEN_ONLY' } } });
  });

  it('answers a missing If-Match with 428 and a stale one with 412, changing nothing', async () => {
    const me = await createOperator(app);
    const dongle = await activeDongle(app, me);
    const missing = await put(me, dongle.id, valid);
    expect(missing.status).toBe(428);
    expect(missing.body.error.code).toBe('precondition_required');
    expect((await put(me, dongle.id, valid, '0')).status).toBe(200);
    const stale = await put(me, dongle.id, valid, '0');
    expect(stale.status).toBe(412);
    expect(stale.body.error.code).toBe('precondition_failed');
    expect((await put(me, dongle.id, valid, 'banana')).status).toBe(422);
    const row = await app.db.prisma.canConfig.findUniqueOrThrow({ where: { dongleId: dongle.id } });
    expect(row.version).toBe(1);
    expect(await app.db.prisma.command.count({ where: { dongleId: dongle.id, type: 'APPLY_CAN_CONFIG' } })).toBe(1);
  });

  it('lets only one of two concurrent PUTs with the same If-Match win', async () => {
    const me = await createOperator(app);
    const dongle = await activeDongle(app, me);
    const results = await Promise.all([put(me, dongle.id, valid, '0'), put(me, dongle.id, { ...valid, mode: 'LOOPBACK' }, '0')]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 412]);
  });

  it('answers impossible timing with 422 naming each field', async () => {
    const me = await createOperator(app);
    const dongle = await activeDongle(app, me);
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ ...valid, nominalBitrate: 2_000_000 }, 'body.nominalBitrate'],
      [{ ...valid, nominalSamplePoint: 95 }, 'body.nominalSamplePoint'],
      [{ ...valid, nominalPrescaler: 8 }, 'body.nominalPrescaler'],
      [{ ...valid, nominalSjw: 3 }, 'body.nominalSjw'],
      [{ ...valid, nominalSeg2: undefined }, 'body.nominalSeg2'],
      [{ ...valid, fdEnabled: true }, 'body.dataBitrate'],
      [{ ...valid, dataBitrate: 2_000_000 }, 'body.dataBitrate'],
      [{ ...valid, mode: 'SILENT' }, 'body.mode'],
    ];
    for (const [body, field] of cases) {
      const res = await put(me, dongle.id, body, '0');
      expect(res.status, field).toBe(422);
      expect(paths(res), field).toContain(field);
    }
    expect(await app.db.prisma.canConfig.count({ where: { dongleId: dongle.id } })).toBe(0);
  });

  it('accepts a CAN FD configuration with a data phase', async () => {
    const me = await createOperator(app);
    const dongle = await activeDongle(app, me);
    const res = await put(me, dongle.id, { mode: 'NORMAL', nominalBitrate: 500_000, nominalSamplePoint: 80, fdEnabled: true, dataBitrate: 2_000_000, dataSamplePoint: 75 }, '0');
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ fdEnabled: true, dataBitrate: 2_000_000, nominalPrescaler: null });
  });

  it('refuses unknown keys (version, appliedVersion, dongleId) with 422', async () => {
    const me = await createOperator(app);
    const dongle = await activeDongle(app, me);
    const res = await put(me, dongle.id, { ...valid, version: 7, appliedVersion: 7 }, '0');
    expect(res.status).toBe(422);
    expect(paths(res)).toContain('body');
  });

  it('answers 409 dongle_not_active for a dongle not yet CLAIMED_ACTIVE', async () => {
    const me = await createOperator(app);
    const deviceId = randomDeviceId();
    await heartbeat(app, me.agentAuth, [deviceId]);
    const claimed = await claim(app, me, deviceId);
    const res = await put(me, claimed.body.id, valid, '0');
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('dongle_not_active');
  });
});
