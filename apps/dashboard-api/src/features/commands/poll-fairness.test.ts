// Issue 9, item 3: one agent cannot slow everyone. An agent holds at most
// agentMaxConcurrentPolls waiting polls (a newer one ends the oldest with an empty list), and a
// new command wakes only the polls of the agent that can claim it.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestApp, type TestApp } from '../../../test/support/test-app.ts';
import { CLAIM_SQL } from './agent-commands.service.ts';
import { createFleet, notifierOf, pollAs } from './command-fixtures.test-support.ts';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ config: { agentMaxConcurrentPolls: 2 } });
});
afterAll(() => app.stop());

const untilWaiting = (count: number) => expect.poll(() => notifierOf(app).waiting, { timeout: 10_000 }).toBe(count);

describe('waiting polls per agent', () => {
  it('a poll beyond the cap ends the agent’s oldest waiting poll with an empty list; the newer ones still get work', async () => {
    const fleet = await createFleet(app);
    const baseline = notifierOf(app).waiting;
    const oldest = pollAs(app, fleet.agent.authorization, 30).then((res) => res);
    await untilWaiting(baseline + 1);
    const second = pollAs(app, fleet.agent.authorization, 30, 1).then((res) => res);
    await untilWaiting(baseline + 2);
    const third = pollAs(app, fleet.agent.authorization, 30, 1).then((res) => res);

    const ended = await oldest;
    expect(ended.status).toBe(200);
    expect(ended.body).toEqual({ commands: [] });
    await untilWaiting(baseline + 2);

    const sent = [await fleet.send(fleet.dongle.id, { type: 'PING' }), await fleet.send(fleet.dongle.id, { type: 'PING' })];
    const [a, b] = await Promise.all([second, third]);
    const delivered = [...a.body.commands, ...b.body.commands].map((c: { id: string }) => c.id);
    expect(delivered.sort()).toEqual(sent.map((s) => s.body.id).sort());
  });

  it('another agent’s polls are not touched by the cap', async () => {
    const fleet = await createFleet(app, { agents: 2, dongles: 2 });
    const baseline = notifierOf(app).waiting;
    const other = pollAs(app, fleet.agents[1]!.authorization, 30).then((res) => res);
    await untilWaiting(baseline + 1);
    const mine = [0, 1, 2].map(() => pollAs(app, fleet.agents[0]!.authorization, 30, 1).then((res) => res));
    await untilWaiting(baseline + 3);
    const sent = await fleet.send(fleet.dongles[1]!.id, { type: 'PING' });
    expect((await other).body.commands.map((c: { id: string }) => c.id)).toEqual([sent.body.id]);
    // The first agent's two remaining polls each take one of two new commands.
    const pings = [await fleet.send(fleet.dongles[0]!.id, { type: 'PING' }), await fleet.send(fleet.dongles[0]!.id, { type: 'PING' })];
    const answers = await Promise.all(mine);
    const delivered = answers.flatMap((res) => res.body.commands.map((c: { id: string }) => c.id));
    expect(delivered.sort()).toEqual(pings.map((p) => p.body.id).sort());
  });
});

describe('wake-ups', () => {
  it('a new command wakes only the polls of the agent that reports its dongle, not every poll of the owner', async () => {
    const fleet = await createFleet(app, { agents: 2, dongles: 2 });
    const [reporter, bystander] = fleet.agents;
    const claims: string[] = [];
    const query = app.db.pool.query.bind(app.db.pool);
    const spy = vi.spyOn(app.db.pool, 'query').mockImplementation(((text: unknown, values?: unknown[]) => {
      if (text === CLAIM_SQL && Array.isArray(values)) claims.push(values[0] as string);
      return query(text as string, values);
    }) as typeof app.db.pool.query);
    try {
      const baseline = notifierOf(app).waiting;
      const waiting = [reporter!, bystander!].map((agent) => pollAs(app, agent.authorization, 30).then((res) => res));
      await untilWaiting(baseline + 2);
      const bystanderChecks = claims.filter((id) => id === bystander!.agent.id).length;

      const sent = await fleet.send(fleet.dongles[0]!.id, { type: 'PING' });
      expect((await waiting[0]!).body.commands.map((c: { id: string }) => c.id)).toEqual([sent.body.id]);
      // Give a stray wake-up time to arrive: the bystander must not have re-run the hand-out.
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(claims.filter((id) => id === bystander!.agent.id).length).toBe(bystanderChecks);

      const forBystander = await fleet.send(fleet.dongles[1]!.id, { type: 'PING' });
      expect((await waiting[1]!).body.commands.map((c: { id: string }) => c.id)).toEqual([forBystander.body.id]);
    } finally {
      spy.mockRestore();
    }
  });
});
