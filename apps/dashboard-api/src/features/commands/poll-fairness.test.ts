// Issue 9, item 3: one agent cannot slow everyone. An agent holds at most
// agentMaxConcurrentPolls waiting polls (one more is a 429 too_many_polls with Retry-After,
// before any query), and a new command wakes only the polls of the agent that can claim it.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestApp, type TestApp } from '../../../test/support/test-app.ts';
import { CLAIM } from './commands.sql.ts';
import { createFleet, notifierOf, pollAs } from '../../../test/support/command-fixtures.ts';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ config: { agentMaxConcurrentPolls: 2 } });
});
afterAll(() => app.stop());

const untilWaiting = (count: number) => expect.poll(() => notifierOf(app).waiting, { timeout: 10_000 }).toBe(count);
const ids = (res: { body: { commands: { id: string }[] } }) => res.body.commands.map((c) => c.id);

describe('waiting polls per agent', () => {
  it('a poll beyond the cap is a 429 too_many_polls with Retry-After; the waiting ones still get work', async () => {
    const fleet = await createFleet(app);
    const baseline = notifierOf(app).waiting;
    const held = [pollAs(app, fleet.agent.authorization, 30, 1).then((res) => res), pollAs(app, fleet.agent.authorization, 30, 1).then((res) => res)];
    await untilWaiting(baseline + 2);

    // Refused before the agent guard: not a single query.
    const queries = vi.spyOn(app.db.pool, 'query');
    const refused = await pollAs(app, fleet.agent.authorization, 30);
    expect(queries).not.toHaveBeenCalled();
    queries.mockRestore();
    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe('too_many_polls');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    // A poll that does not wait is not counted.
    expect((await pollAs(app, fleet.agent.authorization, 0)).status).toBe(200);

    const sent = [await fleet.send(fleet.dongle.id, { type: 'PING' }), await fleet.send(fleet.dongle.id, { type: 'PING' })];
    const answers = await Promise.all(held);
    expect(answers.flatMap(ids).sort()).toEqual(sent.map((s) => s.body.id).sort());
    // Slots are given back: the agent may wait again.
    const again = pollAs(app, fleet.agent.authorization, 30).then((res) => res);
    await untilWaiting(baseline + 1);
    const last = await fleet.send(fleet.dongle.id, { type: 'PING' });
    expect(ids(await again)).toEqual([last.body.id]);
  });

  it('another agent’s polls are not touched by the cap', async () => {
    const fleet = await createFleet(app, { agents: 2, dongles: 2 });
    const baseline = notifierOf(app).waiting;
    const mine = [0, 1].map(() => pollAs(app, fleet.agents[0]!.authorization, 30, 1).then((res) => res));
    await untilWaiting(baseline + 2);
    expect((await pollAs(app, fleet.agents[0]!.authorization, 30)).status).toBe(429);
    const other = pollAs(app, fleet.agents[1]!.authorization, 30).then((res) => res);
    await untilWaiting(baseline + 3);
    const sent = await fleet.send(fleet.dongles[1]!.id, { type: 'PING' });
    expect(ids(await other)).toEqual([sent.body.id]);
    const pings = [await fleet.send(fleet.dongles[0]!.id, { type: 'PING' }), await fleet.send(fleet.dongles[0]!.id, { type: 'PING' })];
    expect((await Promise.all(mine)).flatMap(ids).sort()).toEqual(pings.map((p) => p.body.id).sort());
  });
});

describe('wake-ups', () => {
  it('a new command wakes only the polls of the agent that reports its dongle, not every poll of the owner', async () => {
    const fleet = await createFleet(app, { agents: 2, dongles: 2 });
    const [reporter, bystander] = fleet.agents;
    const claims: string[] = [];
    const query = app.db.pool.query.bind(app.db.pool);
    const spy = vi.spyOn(app.db.pool, 'query').mockImplementation(((text: unknown, values?: unknown[]) => {
      // The service runs the hand-out as a named statement: an object {name, text, values}.
      const call = typeof text === 'object' && text !== null ? (text as { text: string; values?: unknown[] }) : { text, values };
      if (call.text === CLAIM.text && Array.isArray(call.values)) claims.push(call.values[0] as string);
      return query(text as string, values);
    }) as typeof app.db.pool.query);
    try {
      const baseline = notifierOf(app).waiting;
      const waiting = [reporter!, bystander!].map((agent) => pollAs(app, agent.authorization, 30).then((res) => res));
      await untilWaiting(baseline + 2);
      const bystanderChecks = claims.filter((id) => id === bystander!.agent.id).length;

      const sent = await fleet.send(fleet.dongles[0]!.id, { type: 'PING' });
      expect(ids(await waiting[0]!)).toEqual([sent.body.id]);
      // Give a stray wake-up time to arrive: the bystander must not have re-run the hand-out.
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(claims.filter((id) => id === bystander!.agent.id).length).toBe(bystanderChecks);

      const forBystander = await fleet.send(fleet.dongles[1]!.id, { type: 'PING' });
      expect(ids(await waiting[1]!)).toEqual([forBystander.body.id]);
    } finally {
      spy.mockRestore();
    }
  });

  it('a dongle that moves to another of the owner’s agents wakes that agent’s waiting poll with its queued commands', { timeout: 20_000 }, async () => {
    const fleet = await createFleet(app, { agents: 2, dongles: 1 });
    const [before, after] = fleet.agents;
    const baseline = notifierOf(app).waiting;
    const waiting = pollAs(app, after!.authorization, 30).then((res) => res);
    await untilWaiting(baseline + 1);
    // Queued while the first agent reports the dongle: that NOTIFY names the first agent.
    const sent = await fleet.send(fleet.dongle.id, { type: 'PING' });
    expect(before).toBeDefined();
    const moved = await app.http.post('/api/agent/heartbeat').set('Authorization', after!.authorization).send({ version: '1.0.0', dongles: [{ deviceId: fleet.dongle.deviceId }] });
    expect(moved.status).toBe(200);
    // Delivered well before the poll's 30 s (the test's timeout is 20 s).
    expect(ids(await waiting)).toEqual([sent.body.id]);
  });
});
