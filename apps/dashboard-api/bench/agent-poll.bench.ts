// Agent long-poll with nothing pending (GET /api/agent/commands?wait=0): the request every idle
// agent makes all day. App vs. the bare baseline running the same statements (the guard's one
// join and the hand-out, both imported from the app). Target: ≥ 60 % of the baseline.
import pg from 'pg';
import type { BenchContext } from './run.ts';
import { compare, pct, perConnection, refreshSightings, seedFleet, setupLine, startServers, table, verdict, type Contender } from './commands-bench-kit.ts';

export default async function agentPollBench(ctx: BenchContext): Promise<string> {
  const pool = new pg.Pool({ connectionString: ctx.databaseUrl, max: 2 });
  const agents = await seedFleet(pool, { users: 10, donglesPerUser: 5, historyPerDongle: 20, label: 'poll' });
  const servers = await startServers(ctx.databaseUrl);
  try {
    const token = perConnection(agents.map((a) => a.token));
    const poll = (url: string, path: string): Contender['options'] => ({
      url,
      requests: [{ method: 'GET', path, setupRequest: (req, context) => ({ ...req, headers: { authorization: `Bearer ${token(context)}` } }) }],
    });
    const before = () => refreshSightings(pool, agents);
    const [baseline, app] = await compare(
      [
        { label: 'baseline: node:http + pg, same SQL', options: poll(servers.baselineUrl, '/agent/commands?limit=10'), before },
        { label: 'GET /api/agent/commands?wait=0', options: poll(servers.appUrl, '/api/agent/commands?wait=0'), before },
      ],
      ctx.log,
    );
    const ratio = app!.rps / baseline!.rps;
    return [
      '## Agent poll, nothing pending',
      '',
      setupLine(),
      `Ten agents (one per connection), five dongles each, twenty finished commands per dongle, nothing queued.`,
      '',
      ...table([baseline!, app!]),
      '',
      `- App / baseline: ${pct(ratio)} (target ≥ 60 %): ${verdict(ratio, 0.6)}.`,
      '- Per request the app runs the agent guard (one prepared join of token, agent and user) and the one hand-out statement, which with nothing to hand out locks and writes nothing (agents.last_seen_at is written at most every 15 s). No session middleware runs on `/api/agent`.',
      '- What remains of the gap is Express itself (routing, zod query validation, headers, request log, metrics) around the same SQL; the guard was a nested Prisma `findUnique` (1.4–2.9 ms of CPU per request) until it became one prepared join.',
      '',
    ].join('\n');
  } finally {
    await servers.stop();
    await pool.end();
  }
}
