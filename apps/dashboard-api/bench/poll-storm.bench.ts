// One agent cannot slow everyone (issue 9, item 3): another operator's GET /api/dongles p50
// while one agent tries to hold 1,000 waiting polls as commands are created for its owner's
// dongles, against the same list while that agent polls normally. Target: storm p50 ≤ 1.5 ×.
//
// Both phases create commands through the app (POST /api/dongles/:id/commands, the agent
// owner's session) at the same fixed rate, so the ratio isolates what the extra polls cost. The
// stormer follows the protocol but opens far too many polls: each of its 1,000 loops re-polls as
// soon as a poll returns (wait=30) and after a 429 waits the Retry-After it was given. A client
// that ignores 429 is a plain request flood, which is the rate limiter's business.
import http from 'node:http';
import autocannon from 'autocannon';
import pg from 'pg';
import type { BenchContext } from './run.ts';
import { CONNECTIONS, DURATION_S, login, perConnection, refreshSightings, seedLoginUser, startServers, WARMUP_S } from './commands-bench-kit.ts';

const STORM_POLLS = 1_000;
const COMMANDS_PER_SECOND = 20;
const ROUNDS = Number(process.env.POLL_STORM_ROUNDS ?? 3);

interface Storm {
  stop(): Promise<{ polls: number; refused: number; delivered: number; created: number; statuses: Record<number, number> }>;
}

function startLoad(pollLoops: number, appUrl: string, agentToken: string, owner: { cookie: string; csrfToken: string }, dongleIds: string[]): Storm {
  const url = new URL(appUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets: STORM_POLLS + 10 });
  let running = true;
  const counts = { polls: 0, refused: 0, delivered: 0, created: 0, statuses: {} as Record<number, number> };
  const inFlight = new Set<http.ClientRequest>();

  const request = (options: http.RequestOptions, body?: string) =>
    new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>((resolve) => {
      const req = http.request({ host: url.hostname, port: url.port, agent, ...options }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => {
          inFlight.delete(req);
          counts.statuses[res.statusCode ?? 0] = (counts.statuses[res.statusCode ?? 0] ?? 0) + 1;
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text });
        });
      });
      inFlight.add(req);
      req.on('error', () => {
        inFlight.delete(req);
        resolve({ status: 0, headers: {}, body: '' });
      });
      req.end(body);
    });

  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  async function pollLoop() {
    while (running) {
      const res = await request({ method: 'GET', path: '/api/agent/commands?wait=30', headers: { authorization: `Bearer ${agentToken}` } });
      counts.polls++;
      if (res.status === 429) {
        counts.refused++;
        await sleep(Number(res.headers['retry-after'] ?? 1) * 1_000);
      } else if (res.status === 200) {
        counts.delivered += (JSON.parse(res.body) as { commands: unknown[] }).commands.length;
      } else {
        await sleep(100);
      }
    }
  }

  async function createLoop() {
    let next = 0;
    while (running) {
      const dongleId = dongleIds[next++ % dongleIds.length]!;
      const res = await request(
        { method: 'POST', path: `/api/dongles/${dongleId}/commands`, headers: { cookie: owner.cookie, 'x-csrf-token': owner.csrfToken, 'content-type': 'application/json' } },
        JSON.stringify({ type: 'PING' }),
      );
      if (res.status === 201) counts.created++;
      await sleep(1_000 / COMMANDS_PER_SECOND);
    }
  }

  const loops = [...Array.from({ length: pollLoops }, pollLoop), createLoop()];
  return {
    async stop() {
      running = false;
      for (const req of inFlight) req.destroy();
      await Promise.all(loops);
      agent.destroy();
      return counts;
    },
  };
}

export default async function pollStormBench(ctx: BenchContext): Promise<string> {
  const pool = new pg.Pool({ connectionString: ctx.databaseUrl, max: 2 });
  const victim = await seedLoginUser(pool, 'storm-victim', 60, 5);
  const stormer = await seedLoginUser(pool, 'stormer', 20, 0);
  const servers = await startServers(ctx.databaseUrl);
  try {
    const sessions = [];
    for (let i = 0; i < 3; i++) sessions.push(await login(servers.appUrl, victim.email, victim.password));
    const cookie = perConnection(sessions.map((s) => s.cookie));
    const owner = await login(servers.appUrl, stormer.email, stormer.password);
    const list: autocannon.Options = {
      url: servers.appUrl,
      connections: CONNECTIONS,
      requests: [{ method: 'GET', path: '/api/dongles', setupRequest: (req, context) => ({ ...req, headers: { cookie: cookie(context) } }) }],
    };

    const quiet: number[] = [];
    const stormy: number[] = [];
    const totals = { polls: 0, refused: 0, delivered: 0, created: 0, quietRps: 0, stormRps: 0 };
    await autocannon({ ...list, duration: WARMUP_S });
    for (let round = 0; round < ROUNDS; round++) {
      await refreshSightings(pool, [stormer]);
      const steady = startLoad(1, servers.appUrl, stormer.token, owner, stormer.dongleIds);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const calm = await autocannon({ ...list, duration: DURATION_S });
      const steadyCounts = await steady.stop();
      quiet.push(calm.latency.p50);
      totals.quietRps += calm['2xx'] / DURATION_S / ROUNDS;

      const storm = startLoad(STORM_POLLS, servers.appUrl, stormer.token, owner, stormer.dongleIds);
      await new Promise((resolve) => setTimeout(resolve, 2_000)); // every loop has polled once
      const loud = await autocannon({ ...list, duration: DURATION_S });
      const counts = await storm.stop();
      stormy.push(loud.latency.p50);
      totals.stormRps += loud['2xx'] / DURATION_S / ROUNDS;
      for (const key of ['polls', 'refused', 'delivered', 'created'] as const) totals[key] += counts[key];
      ctx.log(`  round ${round + 1}: steady load ${JSON.stringify(steadyCounts)}`);
      ctx.log(`  round ${round + 1}: quiet p50 ${calm.latency.p50} ms (${calm['2xx']} ok, ${calm.non2xx} non-2xx, ${calm.errors} errors), storm p50 ${loud.latency.p50} ms (${loud['2xx']} ok, ${loud.non2xx} non-2xx, ${loud.errors + loud.timeouts} errors); storm ${JSON.stringify(counts)}`);
    }
    const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
    const ratio = mean(stormy) / Math.max(mean(quiet), 0.5);
    return [
      '## Poll storm: one agent with 1,000 polls vs. another operator’s dongle list',
      '',
      `Another operator’s \`GET /api/dongles\` (60 dongles, ${CONNECTIONS} connections) measured with the storm off and on, in alternation (${ROUNDS} rounds of ${DURATION_S} s each after a ${WARMUP_S} s warm-up). In both phases a second operator creates ${COMMANDS_PER_SECOND} commands/s through the app for its 20 dongles, which its agent reports. Storm off: that agent runs one poll loop. Storm on: it runs ${STORM_POLLS.toLocaleString('en')} (\`wait=30\`, re-poll on return, honour \`Retry-After\` on 429). Same child process and PostgreSQL as the other benches; the load runs in the bench process.`,
      '',
      '| measurement | p50 ms (mean of rounds) | req/s (2xx) |',
      '|---|---:|---:|',
      `| dongle list, storm off | ${mean(quiet).toFixed(1)} | ${totals.quietRps.toFixed(0)} |`,
      `| dongle list, storm on | ${mean(stormy).toFixed(1)} | ${totals.stormRps.toFixed(0)} |`,
      '',
      `- Storm / quiet p50: ${ratio.toFixed(2)} × (target ≤ 1.5 ×): ${ratio <= 1.5 ? 'met' : '**missed**'}.`,
      `- The storm, over all rounds: ${totals.polls} polls answered, ${totals.refused} of them 429 \`too_many_polls\` (the cap, AGENT_MAX_CONCURRENT_POLLS, is 4), ${totals.delivered} commands delivered of ${totals.created} created.`,
      '- Before issue 9 every NOTIFY woke every waiting poll of the owner and each re-ran the hand-out; the report measured 10 ms → 1,071 ms for this scenario. Now a command wakes only the polls of the agent that reports its dongle, and that agent holds at most 4.',
      '',
    ].join('\n');
  } finally {
    await servers.stop();
    await pool.end();
  }
}
