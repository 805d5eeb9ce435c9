// The working path of an agent: a poll that claims one command (FOR UPDATE SKIP LOCKED, marked
// DELIVERED) followed by that command's result post (UPDATE + audit row in one transaction).
// App vs. the bare baseline running the same statements. Target: ≥ 85 % of the baseline.
import pg from 'pg';
import type { BenchContext } from './run.ts';
import { compare, pct, perConnection, queueCommands, refreshSightings, seedFleet, setupLine, startServers, table, verdict, type Contender } from './commands-bench-kit.ts';

// Enough queued work that no connection's queue runs dry within one measured round.
const QUEUED_PER_DONGLE = 400;

let firstError: string | undefined;

export default async function agentClaimBench(ctx: BenchContext): Promise<string> {
  const pool = new pg.Pool({ connectionString: ctx.databaseUrl, max: 2 });
  const agents = await seedFleet(pool, { users: 10, donglesPerUser: 5, historyPerDongle: 20, label: 'claim' });
  const servers = await startServers(ctx.databaseUrl);
  try {
    const token = perConnection(agents.map((a) => a.token));
    const result = JSON.stringify({ status: 'SUCCEEDED', result: { pong: true } });
    // Each iteration: poll for one command, then post its result.
    const claimAndAnswer = (url: string, prefix: string, pollPath: string): Contender['options'] => ({
      url,
      requests: [
        {
          method: 'GET',
          path: pollPath,
          setupRequest: (req, context) => ({ ...req, headers: { authorization: `Bearer ${token(context)}` } }),
          onResponse: (status, body, context) => {
            // A refused poll (e.g. 503 when the machine is overloaded) has no commands: the result post then 404s, counted as non-2xx.
            if (status !== 200 && !firstError) firstError = `${status} ${body.slice(0, 300)}`;
            (context as { id?: string }).id = status === 200 ? ((JSON.parse(body) as { commands: { id: string }[] }).commands[0]?.id ?? 'none') : 'none';
          },
        },
        {
          method: 'POST',
          setupRequest: (req, context) => ({
            ...req,
            path: `${prefix}/agent/commands/${(context as { id?: string }).id}/result`,
            headers: { authorization: `Bearer ${token(context)}`, 'content-type': 'application/json' },
            body: result,
          }),
        },
      ],
    });
    const before = async () => {
      await refreshSightings(pool, agents);
      await pool.query(`DELETE FROM commands WHERE status = 'QUEUED' AND dongle_id IN (SELECT id FROM dongles WHERE last_seen_agent_id = ANY($1::uuid[]))`, [agents.map((a) => a.agentId)]);
      await queueCommands(pool, agents, QUEUED_PER_DONGLE);
    };
    const [baseline, app] = await compare(
      [
        { label: 'baseline: node:http + pg, same SQL (poll + result)', options: claimAndAnswer(servers.baselineUrl, '', '/agent/commands?limit=1'), before },
        { label: 'GET /api/agent/commands?wait=0&limit=1 + POST …/result', options: claimAndAnswer(servers.appUrl, '/api', '/api/agent/commands?wait=0&limit=1'), before },
      ],
      ctx.log,
    );
    if (firstError) ctx.log(`  first non-200 poll: ${firstError}`);
    const ratio = app!.rps / baseline!.rps;
    return [
      '## Agent claim + result',
      '',
      setupLine(),
      `Ten agents (one per connection), five dongles each, ${QUEUED_PER_DONGLE} commands queued per dongle before each round. One iteration = a poll that claims one command + the result post; req/s counts both requests.`,
      '',
      ...table([baseline!, app!]),
      '',
      `- App / baseline: ${pct(ratio)} (target ≥ 85 %): ${verdict(ratio, 0.85)}.`,
      '- App per iteration: guard (one prepared join) + the hand-out statement; guard again + one raw pg transaction (BEGIN, result UPDATE, audit INSERT, COMMIT). The baseline runs the same statements on raw pg.',
      '- The claim and result statements are the baseline\'s (imported from the service); the app adds Express, validation and the audit adapter. See doc/commands.md § Performance.',
      '',
    ].join('\n');
  } finally {
    await servers.stop();
    await pool.end();
  }
}
