// Timers, wake-ups and shutdown: EXPIRED and TIMED_OUT with no request touching the command,
// late results, NOTIFY across two instances, the listener reconnecting, and SIGTERM.
// No timing assertions: "promptly" is checked as "well before the poll's own wait ends".
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../../test/support/test-app.ts';
import { createFleet, notifierOf, pollAs, postResult } from '../../../test/support/command-fixtures.ts';

// A fast sweeper and a 1-second execution timeout; `lazy` has its sweeper effectively off, so
// only the request paths can apply the timers there.
let app: TestApp;
let other: TestApp;
let lazy: TestApp;
beforeAll(async () => {
  app = await startTestApp({ config: { commands: { timeoutSeconds: 1, sweepIntervalMs: 200 } } });
  other = await startTestApp();
  lazy = await startTestApp({ config: { commands: { timeoutSeconds: 1, sweepIntervalMs: 3_600_000 } } });
});
afterAll(async () => {
  await Promise.all([app.stop(), other.stop(), lazy.stop()]);
});

const statusOf = async (id: string) => (await app.db.prisma.command.findUnique({ where: { id } }))?.status;
const organizationOf = async (on: TestApp, id: string) => (await on.db.prisma.command.findUniqueOrThrow({ where: { id } })).organizationId;

describe('the sweeper', () => {
  it('expires a command nobody picked up within its TTL, without any request touching it', async () => {
    const fleet = await createFleet(app);
    const command = (await fleet.send(fleet.dongle.id, { type: 'PING', ttlSeconds: 1 })).body;
    await expect.poll(() => statusOf(command.id), { timeout: 15_000, interval: 200 }).toBe('EXPIRED');
    const audit = await app.db.prisma.auditLog.findFirst({ where: { action: 'command.expire', actorType: 'system', targetType: 'command', targetId: command.id } });
    expect(audit?.details).toEqual({ dongleId: fleet.dongle.id });
    // A system row, still in the command's organization (its admins' audit log shows it).
    expect(audit?.organizationId).toBe(await organizationOf(app, command.id));
    expect(audit?.organizationId).not.toBeNull();
    expect((await pollAs(app, fleet.agent.authorization)).body.commands).toEqual([]);
  });

  it('times out a delivered command without a result, and refuses the late result', async () => {
    const fleet = await createFleet(app);
    const command = (await fleet.send(fleet.dongle.id, { type: 'REBOOT' })).body;
    expect((await pollAs(app, fleet.agent.authorization)).body.commands).toHaveLength(1);
    await expect.poll(() => statusOf(command.id), { timeout: 15_000, interval: 200 }).toBe('TIMED_OUT');
    const audit = await app.db.prisma.auditLog.findMany({ where: { action: 'command.timeout', actorType: 'system', targetType: 'command', targetId: command.id } });
    expect(audit.map((row) => [row.details, row.organizationId])).toEqual([[{ dongleId: fleet.dongle.id }, await organizationOf(app, command.id)]]);
    const late = await postResult(app, fleet.agent.authorization, command.id, { status: 'SUCCEEDED' });
    expect(late.status).toBe(409);
    expect(late.body.error.code).toBe('command_timed_out');
    expect(await statusOf(command.id)).toBe('TIMED_OUT');
  });
});

describe('the request paths treat overdue commands as expired or timed out', () => {
  it('does not hand out an overdue QUEUED command, and a cancel marks it EXPIRED with 409', async () => {
    const fleet = await createFleet(lazy);
    const command = (await fleet.send(fleet.dongle.id, { type: 'PING', ttlSeconds: 1 })).body;
    await sleep(1_200);
    expect((await pollAs(lazy, fleet.agent.authorization)).body.commands).toEqual([]);
    const cancel = await fleet.operator.agent.post(`/api/commands/${command.id}/cancel`).set('X-CSRF-Token', fleet.operator.csrfToken);
    expect(cancel.status).toBe(409);
    expect(await statusOf(command.id)).toBe('EXPIRED');
    const audit = await lazy.db.prisma.auditLog.findMany({ where: { action: 'command.expire', targetType: 'command', targetId: command.id } });
    expect(audit.map((row) => [row.actorType, row.details, row.organizationId])).toEqual([['system', { dongleId: fleet.dongle.id }, await organizationOf(lazy, command.id)]]);
  });

  it('refuses a result that arrives after the execution timeout, marking the command TIMED_OUT', async () => {
    const fleet = await createFleet(lazy);
    const command = (await fleet.send(fleet.dongle.id, { type: 'PING' })).body;
    expect((await pollAs(lazy, fleet.agent.authorization)).body.commands).toHaveLength(1);
    await sleep(1_200);
    const late = await postResult(lazy, fleet.agent.authorization, command.id, { status: 'SUCCEEDED', result: { pong: true } });
    expect(late.status).toBe(409);
    expect(await statusOf(command.id)).toBe('TIMED_OUT');
    expect(await lazy.db.prisma.auditLog.count({ where: { action: 'command.timeout', targetType: 'command', targetId: command.id } })).toBe(1);
    expect((await postResult(lazy, fleet.agent.authorization, command.id, { status: 'SUCCEEDED', result: { pong: true } })).status).toBe(409);
  });
});

describe('long-poll wake-ups', () => {
  it('wakes a waiting poll when a command is created, well before its wait ends', async () => {
    const fleet = await createFleet(app);
    const started = Date.now();
    const poll = pollAs(app, fleet.agent.authorization, 30).then((r) => r);
    await expect.poll(() => notifierOf(app).waiting).toBeGreaterThanOrEqual(1);
    const command = (await fleet.send(fleet.dongle.id, { type: 'PING' })).body;
    const res = await poll;
    expect(res.body.commands.map((c: { id: string }) => c.id)).toEqual([command.id]);
    // Generous on purpose (2 shared cores): the point is "woken", not "waited out 30 s".
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('wakes a poll on another instance: created on one server, handed out by the other', async () => {
    const fleet = await createFleet(app);
    const started = Date.now();
    const poll = pollAs(other, fleet.agent.authorization, 30).then((r) => r);
    await expect.poll(() => notifierOf(other).waiting).toBeGreaterThanOrEqual(1);
    const command = (await fleet.send(fleet.dongle.id, { type: 'SEND_FRAME', payload: { canId: 1, data: '01' } })).body;
    const res = await poll;
    expect(res.body.commands.map((c: { id: string }) => c.id)).toEqual([command.id]);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('reconnects a lost listener connection and still wakes polls afterwards', async () => {
    const fleet = await createFleet(other);
    const notifier = notifierOf(other);
    await expect.poll(() => notifier.backendPid).toBeDefined();
    const lostPid = notifier.backendPid!;
    const started = Date.now();
    const poll = pollAs(other, fleet.agent.authorization, 30).then((r) => r);
    await expect.poll(() => notifier.waiting).toBeGreaterThanOrEqual(1);
    await app.db.pool.query('SELECT pg_terminate_backend($1)', [lostPid]);
    await expect.poll(() => notifier.backendPid === undefined || notifier.backendPid === lostPid, { timeout: 15_000 }).toBe(false);
    expect(other.logs.some((line) => line.includes('command listener connection lost'))).toBe(true);
    // The poll re-checked on reconnect and is waiting again: a new command wakes it.
    await expect.poll(() => notifier.waiting).toBeGreaterThanOrEqual(1);
    const command = (await fleet.send(fleet.dongle.id, { type: 'PING' })).body;
    const res = await poll;
    expect(res.body.commands.map((c: { id: string }) => c.id)).toEqual([command.id]);
    expect(Date.now() - started).toBeLessThan(25_000);
  });
});

describe('shutdown', () => {
  it('ends a waiting poll with an empty 200 when the server stops (SIGTERM)', async () => {
    const doomed = await startTestApp();
    try {
      const fleet = await createFleet(doomed);
      const started = Date.now();
      const poll = pollAs(doomed, fleet.agent.authorization, 30).then((r) => r);
      await expect.poll(() => notifierOf(doomed).waiting).toBeGreaterThanOrEqual(1);
      const stopping = doomed.server.stop();
      const res = await poll;
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ commands: [] });
      expect(Date.now() - started).toBeLessThan(10_000);
      await stopping;
    } finally {
      await doomed.stop();
    }
  });
});
