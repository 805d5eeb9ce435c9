// 10,000 agents long-polling one instance (issue 13, Measure): a new command reaches its agent
// with p99 ≤ 200 ms, and an unrelated dashboard request's p50 stays within 1.5 × its unloaded
// value. LONG_POLL_AGENTS overrides the fleet size (to find the largest that works).
//
// Three processes, so no client shares an event loop with the server: the app (the commands
// bench kit's child), the poll fleet (this file forked with POLL_FLAG: one keep-alive socket and
// one `wait=30` poll loop per agent, re-polling as soon as a poll returns) and this process,
// which creates commands through the API as the agents' organization owners and paces the
// dashboard requests. Arrival times come back from the fleet over IPC; both processes read the
// same wall clock (performance.timeOrigin + performance.now()).
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import pg from 'pg';
import type { BenchContext } from './run.ts';
import { login, seedLoginUser, startServers } from './commands-bench-kit.ts';

const POLL_FLAG = '--long-poll-fleet';
const AGENTS = Number(process.env.LONG_POLL_AGENTS ?? 10_000);
const ORGS = 5;
const DONGLES_PER_AGENT = 3;
const COMMANDS = 200;
const COMMAND_INTERVAL_MS = 100;
/** New polls opened per 100 ms while the fleet ramps up (a burst of 10,000 would only measure the pool's queue). */
const RAMP_PER_TICK = 20;
const DASHBOARD_RATE = 20;
const DASHBOARD_SECONDS = 20;

const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------- the poll fleet (child)

interface FleetStats {
  polls: number;
  statuses: Record<number, number>;
  delivered: number;
}

function runFleet(): void {
  let running = true;
  const stats: FleetStats = { polls: 0, statuses: {}, delivered: 0 };
  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
  const open = new Set<http.ClientRequest>();

  function poll(url: URL, token: string): Promise<{ status: number; body: string; retryAfter: number }> {
    return new Promise((resolve) => {
      const req = http.request({ host: url.hostname, port: url.port, path: '/api/agent/commands?wait=30&limit=10', agent, headers: { authorization: `Bearer ${token}` } }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => {
          open.delete(req);
          resolve({ status: res.statusCode ?? 0, body: text, retryAfter: Number(res.headers['retry-after'] ?? 0) });
        });
      });
      open.add(req);
      req.on('error', () => {
        open.delete(req);
        resolve({ status: 0, body: '', retryAfter: 0 });
      });
      req.end();
    });
  }

  // As agent-sim does: re-poll at once after a 200; after anything else back off (doubling from
  // 0.5 s to 30 s, at least the Retry-After given), with jitter so refused polls do not return in step.
  async function loop(url: URL, token: string) {
    let backoff = 500;
    while (running) {
      const res = await poll(url, token);
      const at = now();
      if (!running) break; // cut by the bench's stop, not answered
      stats.polls++;
      stats.statuses[res.status] = (stats.statuses[res.status] ?? 0) + 1;
      if (res.status === 200) {
        const ids = (JSON.parse(res.body) as { commands: { id: string }[] }).commands.map((c) => c.id);
        stats.delivered += ids.length;
        if (ids.length > 0) process.send!({ kind: 'arrived', ids, at });
        backoff = 500;
      } else if (running) {
        await sleep(Math.max(backoff, res.retryAfter * 1_000) * (0.5 + Math.random()));
        backoff = Math.min(backoff * 2, 30_000);
      }
    }
  }

  const loops: Promise<void>[] = [];
  process.on('message', async (message: { kind: string; appUrl?: string; tokens?: string[] }) => {
    if (message.kind === 'start') {
      const url = new URL(message.appUrl!);
      const tokens = message.tokens!;
      for (let i = 0; i < tokens.length; i += RAMP_PER_TICK) {
        for (const token of tokens.slice(i, i + RAMP_PER_TICK)) loops.push(loop(url, token));
        await sleep(100);
      }
      process.send!({ kind: 'opened' });
    } else if (message.kind === 'stop') {
      running = false;
      for (const req of open) req.destroy();
      await Promise.all(loops);
      agent.destroy();
      process.send!({ kind: 'stats', stats });
      process.exit(0);
    }
  });
}

if (process.argv.includes(POLL_FLAG)) runFleet();

// ---------------------------------------------------------------- the bench (parent)

interface FleetAgent {
  agentId: string;
  ownerIndex: number;
  token: string;
  dongleIds: string[];
}

async function seedLargeFleet(pool: pg.Pool, passwordHash: string) {
  const { sha256Hex } = await import('../src/platform/secrets.ts');
  const run = randomBytes(4).toString('hex');
  const { rows: owners } = await pool.query<{ id: string; email: string }>(
    `INSERT INTO users (email, password_hash, email_verified_at)
     SELECT 'lp-owner-' || g || '-' || $1 || '@bench.test', $2, now() FROM generate_series(1, $3) g RETURNING id, email`,
    [run, passwordHash, ORGS],
  );
  const perOrg = Math.ceil(AGENTS / ORGS);
  const { rows: agentRows } = await pool.query<{ id: string; user_id: string }>(
    `INSERT INTO agents (user_id, name, hostname, os, version, last_seen_at)
     SELECT o, 'lp-' || g, 'lp-' || g || '.local', 'linux', '1.0.0', now() FROM unnest($1::uuid[]) o, generate_series(1, $2) g RETURNING id, user_id`,
    [owners.map((o) => o.id), perOrg],
  );
  const agents = agentRows.slice(0, AGENTS);
  const tokens = agents.map(() => randomBytes(32).toString('base64url'));
  await pool.query(`INSERT INTO agent_tokens (agent_id, token_hash) SELECT * FROM unnest($1::uuid[], $2::text[])`, [agents.map((a) => a.id), tokens.map(sha256Hex)]);
  const { rows: dongles } = await pool.query<{ id: string; agent: string }>(
    `INSERT INTO dongles (device_id, owner_user_id, ownership_state, last_seen_at, last_seen_agent_id)
     SELECT substr(md5(gen_random_uuid()::text), 1, 16), a.user_id, 'CLAIMED_ACTIVE', now(), a.id
       FROM unnest($1::uuid[], $2::uuid[]) a(id, user_id), generate_series(1, $3)
     RETURNING id, last_seen_agent_id::text AS agent`,
    [agents.map((a) => a.id), agents.map((a) => a.user_id), DONGLES_PER_AGENT],
  );
  const byAgent = new Map<string, string[]>();
  for (const d of dongles) byAgent.set(d.agent, [...(byAgent.get(d.agent) ?? []), d.id]);
  const ownerIndex = new Map(owners.map((o, i) => [o.id, i]));
  const fleet: FleetAgent[] = agents.map((a, i) => ({ agentId: a.id, ownerIndex: ownerIndex.get(a.user_id)!, token: tokens[i]!, dongleIds: byAgent.get(a.id)! }));
  return { owners, fleet };
}

async function waitingPolls(appUrl: string): Promise<number> {
  const text = await (await fetch(`${appUrl}/metrics`)).text();
  const match = /^fleet_agent_long_polls_waiting (\d+)/m.exec(text);
  return match ? Number(match[1]) : 0;
}

/** A paced request rate (not flat out): p50 then measures latency, not the queue of a saturated server. */
async function dashboardP50(appUrl: string, cookie: string) {
  const result = await autocannon({ url: appUrl, connections: 4, overallRate: DASHBOARD_RATE, duration: DASHBOARD_SECONDS, requests: [{ method: 'GET', path: '/api/dongles', headers: { cookie } }] });
  return { p50: result.latency.p50, p99: result.latency.p99, ok: result['2xx'], other: result.non2xx + result.errors + result.timeouts };
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;

export default async function longPollFleetBench(ctx: BenchContext): Promise<string> {
  const pool = new pg.Pool({ connectionString: ctx.databaseUrl, max: 2 });
  const loadBefore = os.loadavg()[0]!;
  const seedStart = Date.now();
  const dashboardUser = await seedLoginUser(pool, 'lp-dashboard', 60, 5);
  const { rows: [hash] } = await pool.query<{ password_hash: string }>('SELECT password_hash FROM users WHERE id = $1', [dashboardUser.userId]);
  const { owners, fleet } = await seedLargeFleet(pool, hash!.password_hash);
  ctx.log(`  seeded ${fleet.length} agents, ${fleet.length * DONGLES_PER_AGENT} dongles in ${ORGS} organizations (${((Date.now() - seedStart) / 1000).toFixed(1)} s)`);
  const servers = await startServers(ctx.databaseUrl);
  let child: ChildProcess | undefined;
  try {
    const dashboard = await login(servers.appUrl, dashboardUser.email, dashboardUser.password);
    const sessions = [];
    for (const owner of owners) sessions.push(await login(servers.appUrl, owner.email, dashboardUser.password));
    await autocannon({ url: servers.appUrl, connections: 2, duration: 1, requests: [{ method: 'GET', path: '/api/dongles', headers: { cookie: dashboard.cookie } }] });
    const unloaded = await dashboardP50(servers.appUrl, dashboard.cookie);
    ctx.log(`  dashboard unloaded: ${JSON.stringify(unloaded)}`);

    // The fleet opens its polls.
    await pool.query(`UPDATE dongles SET last_seen_at = now() WHERE last_seen_agent_id = ANY($1::uuid[])`, [fleet.map((a) => a.agentId)]);
    child = fork(fileURLToPath(import.meta.url), [POLL_FLAG], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const arrivals = new Map<string, number>();
    let fleetStats: FleetStats | undefined;
    let opened = false;
    child.on('message', (message: { kind: string; ids?: string[]; at?: number; stats?: FleetStats }) => {
      if (message.kind === 'arrived') for (const id of message.ids!) arrivals.set(id, message.at!);
      else if (message.kind === 'opened') opened = true;
      else if (message.kind === 'stats') fleetStats = message.stats;
    });
    const rampStart = Date.now();
    child.send({ kind: 'start', appUrl: servers.appUrl, tokens: fleet.map((a) => a.token) });
    let waiting = 0;
    while (Date.now() - rampStart < 240_000) {
      await sleep(1_000);
      waiting = await waitingPolls(servers.appUrl);
      // Never all at once: at any moment some polls are between two waits (answered, re-polling).
      if (opened && waiting >= fleet.length * 0.98) break;
    }
    const rampSeconds = (Date.now() - rampStart) / 1000;
    ctx.log(`  ${waiting} polls waiting after ${rampSeconds.toFixed(1)} s`);
    await sleep(3_000);
    // The hand-out serves dongles reported in the last 5 minutes; the ramp may have taken minutes.
    await pool.query(`UPDATE dongles SET last_seen_at = now() WHERE last_seen_agent_id = ANY($1::uuid[])`, [fleet.map((a) => a.agentId)]);

    // Commands to random agents, through the API, while the dashboard is measured.
    const sent = new Map<string, { t0: number; created: number }>();
    const createErrors: Record<number, number> = {};
    const createUntil = Date.now() + DASHBOARD_SECONDS * 1_000 + 10_000;
    const createLoop = (async () => {
      for (let i = 0; i < COMMANDS && Date.now() < createUntil; i++) {
        const target = fleet[Math.floor(Math.random() * fleet.length)]!;
        const session = sessions[target.ownerIndex]!;
        const dongleId = target.dongleIds[Math.floor(Math.random() * target.dongleIds.length)]!;
        const t0 = now();
        const res = await fetch(`${servers.appUrl}/api/dongles/${dongleId}/commands`, {
          method: 'POST',
          headers: { cookie: session.cookie, 'x-csrf-token': session.csrfToken, 'content-type': 'application/json' },
          body: JSON.stringify({ type: 'PING' }),
        });
        const created = now();
        if (res.status === 201) sent.set(((await res.json()) as { id: string }).id, { t0, created });
        else createErrors[res.status] = (createErrors[res.status] ?? 0) + 1;
        await sleep(Math.max(0, COMMAND_INTERVAL_MS - (now() - t0)));
      }
    })();
    const [loaded] = await Promise.all([dashboardP50(servers.appUrl, dashboard.cookie), createLoop]);
    await sleep(2_000);
    const waitingAfter = await waitingPolls(servers.appUrl);
    ctx.log(`  dashboard loaded: ${JSON.stringify(loaded)}; ${waitingAfter} polls waiting`);

    const fromSend: number[] = [];
    const fromCommit: number[] = [];
    const createMs: number[] = [];
    let missing = 0;
    for (const [id, { t0, created }] of sent) {
      const at = arrivals.get(id);
      createMs.push(created - t0);
      if (at === undefined) missing++;
      else {
        fromSend.push(at - t0);
        fromCommit.push(Math.max(0, at - created));
      }
    }
    for (const list of [fromSend, fromCommit, createMs]) list.sort((a, b) => a - b);

    child.send({ kind: 'stop' });
    await new Promise((resolve) => child!.once('exit', resolve));
    child = undefined;
    await sleep(2_000);
    const unloadedAfter = await dashboardP50(servers.appUrl, dashboard.cookie);
    ctx.log(`  dashboard unloaded again: ${JSON.stringify(unloadedAfter)}`);
    const loadAfter = os.loadavg()[0]!;

    const reference = (unloaded.p50 + unloadedAfter.p50) / 2;
    const ratio = loaded.p50 / Math.max(reference, 0.5);
    const p99 = percentile(fromSend, 99);
    const ms = (v: number) => v.toFixed(1);
    const statuses = Object.entries(fleetStats?.statuses ?? {}).map(([s, n]) => `${s}: ${n}`).join(', ');
    return [
      `## ${fleet.length.toLocaleString('en')} agents long-polling one instance`,
      '',
      `\`bench/long-poll-fleet.bench.ts\` (\`LONG_POLL_AGENTS\`, default 10,000). ${fleet.length.toLocaleString('en')} agents in ${ORGS} organizations, ${DONGLES_PER_AGENT} dongles each (${(fleet.length * DONGLES_PER_AGENT).toLocaleString('en')}), one \`wait=30\` poll each on its own keep-alive socket, re-polling as soon as a poll returns (after a 429/503: backoff from 0.5 s doubling to 30 s, at least its Retry-After, as agent-sim does), from a separate client process (opened ${RAMP_PER_TICK * 10}/s). The app runs in its own process with production settings (pool of 10, logging off). Then up to ${COMMANDS} \`PING\` commands, one at a time at most ${1000 / COMMAND_INTERVAL_MS}/s (for at most ${DASHBOARD_SECONDS + 10} s), each to a random agent's dongle through \`POST /api/dongles/:id/commands\` as its organization's owner; meanwhile another operator's \`GET /api/dongles\` (60 dongles) runs at a paced ${DASHBOARD_RATE} req/s for ${DASHBOARD_SECONDS} s, as it did before the fleet connected and after it left. Machine load average (1 min): ${loadBefore.toFixed(1)} at the start, ${loadAfter.toFixed(1)} at the end, on ${os.cpus().length} cores shared with other work.`,
      '',
      '| measurement | value |',
      '|---|---:|',
      `| polls waiting when measured (fleet opened in ${rampSeconds.toFixed(0)} s) | ${waiting} → ${waitingAfter} |`,
      `| command: create request sent → its poll answered, p50 / p99 / max ms | ${ms(percentile(fromSend, 50))} / **${ms(p99)}** / ${ms(fromSend.at(-1) ?? NaN)} |`,
      `| command: create answered (committed) → its poll answered, p50 / p99 ms | ${ms(percentile(fromCommit, 50))} / ${ms(percentile(fromCommit, 99))} |`,
      `| the create request itself, p50 / p99 ms | ${ms(percentile(createMs, 50))} / ${ms(percentile(createMs, 99))} |`,
      `| commands created / reached their agent / missing | ${sent.size} / ${fromSend.length} / ${missing}${Object.keys(createErrors).length ? ` (create refused: ${JSON.stringify(createErrors)})` : ''} |`,
      `| dashboard list p50 (p99) ms: before the fleet / with it / after it | ${unloaded.p50} (${unloaded.p99}) / **${loaded.p50}** (${loaded.p99}) / ${unloadedAfter.p50} (${unloadedAfter.p99}) |`,
      `| dashboard requests answered 2xx / other, with the fleet | ${loaded.ok} / ${loaded.other} |`,
      `| fleet polls answered, by status | ${statuses} |`,
      '',
      `- Command p99 ${ms(p99)} ms (target ≤ 200 ms, measured from sending the create request, so it includes the create itself): ${p99 <= 200 ? 'met' : '**missed**'}.`,
      `- Dashboard p50 with the fleet / unloaded (mean of before and after): ${ratio.toFixed(2)} × (target ≤ 1.5 ×): ${ratio <= 1.5 ? 'met' : '**missed**'}.`,
      '',
    ].join('\n');
  } finally {
    child?.kill();
    await servers.stop();
    await pool.end();
  }
}
