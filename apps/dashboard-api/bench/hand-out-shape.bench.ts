// The hand-out's shape, before and after the perf round, on raw pg in the same run: before, each
// poll ran BEGIN, the claim statement, one event-writer statement per handed-out command and
// COMMIT (3 round trips when idle); now one statement claims and records the command.delivered
// events (CLAIM with the writer's CTEs, a named statement as the service runs it, so it is
// planned once per connection) and the NOTIFY follows it (announceEvents). Ten
// workers, each its own agent; idle (nothing queued) and busy (one command claimed per call).
import pg from 'pg';
import type { BenchContext } from './run.ts';
import { queueCommands, refreshSightings, seedFleet, type SeededAgent } from './commands-bench-kit.ts';

const ROUND_MS = 3_000;
const ROUNDS = 2;

/** main's CLAIM before the perf round (the claim without its events), kept here as the "before". */
const CLAIM_ONLY_SQL = (sql: string) => {
  const at = sql.indexOf('), delivered_events AS (');
  return `${sql.slice(0, at)})\nSELECT * FROM delivered ORDER BY created_at, id`;
};

type Shape = 'before' | 'now';

async function handOut(pool: pg.Pool, agent: SeededAgent, tokenId: string, shape: Shape): Promise<number> {
  const { CLAIM, claimParams } = await import('../src/features/commands/commands.sql.ts');
  const { announceEvents, recordEvent } = await import('../src/platform/events/event-writer.ts');
  const { inPgTransaction } = await import('../src/platform/database.ts');
  const params = claimParams({ id: agent.agentId, organizationId: agent.organizationId, tokenId }, 1);
  if (shape === 'now') {
    const { rows } = await pool.query({ name: CLAIM.name, text: CLAIM.text, values: params });
    if (rows.length > 0) announceEvents(pool);
    return rows.length;
  }
  return inPgTransaction(pool, async (client) => {
    const { rows } = await client.query(CLAIM_ONLY_SQL(CLAIM.text), params);
    for (const row of rows) {
      await recordEvent(client, { organizationId: row.organization_id, type: 'command.delivered', subjectId: row.id, data: { dongleId: row.dongle_id, type: row.type, agentId: agent.agentId } });
    }
    return rows.length;
  });
}

async function round(pool: pg.Pool, agents: Array<{ agent: SeededAgent; tokenId: string }>, shape: Shape) {
  const latencies: number[] = [];
  let claimed = 0;
  const deadline = performance.now() + ROUND_MS;
  await Promise.all(
    agents.map(async ({ agent, tokenId }) => {
      while (performance.now() < deadline) {
        const started = performance.now();
        const n = await handOut(pool, agent, tokenId, shape);
        claimed += n;
        latencies.push(performance.now() - started);
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  return { perSecond: latencies.length / (ROUND_MS / 1000), p50: latencies[Math.floor(latencies.length / 2)]!, claimed };
}

export default async function handOutShapeBench(ctx: BenchContext): Promise<string> {
  const pool = new pg.Pool({ connectionString: ctx.databaseUrl, max: 10 });
  pool.on('error', () => undefined);
  const rows: string[] = [];
  const notes: string[] = [];
  try {
    const seeded = await seedFleet(pool, { users: 10, donglesPerUser: 5, historyPerDongle: 20, label: 'shape' });
    const agents = [];
    for (const agent of seeded) {
      const { rows: [t] } = await pool.query(`SELECT id::text FROM agent_tokens WHERE agent_id = $1`, [agent.agentId]);
      agents.push({ agent, tokenId: t.id as string });
    }
    for (const busy of [false, true]) {
      const prepare = async () => {
        await refreshSightings(pool, seeded);
        await pool.query(`DELETE FROM commands WHERE status = 'QUEUED' AND dongle_id IN (SELECT id FROM dongles WHERE last_seen_agent_id = ANY($1::uuid[]))`, [seeded.map((a) => a.agentId)]);
        if (busy) await queueCommands(pool, seeded, 400);
      };
      await prepare();
      await round(pool, agents, 'now'); // warm-up
      const totals: Record<Shape, Awaited<ReturnType<typeof round>>[]> = { before: [], now: [] };
      for (let r = 0; r < ROUNDS; r++) {
        for (const shape of ['before', 'now'] as const) {
          await prepare();
          totals[shape].push(await round(pool, agents, shape));
        }
      }
      const label = busy ? 'busy: one command claimed per call' : 'idle: nothing queued';
      const mean = (list: Awaited<ReturnType<typeof round>>[]) => ({
        perSecond: list.reduce((s, x) => s + x.perSecond, 0) / list.length,
        p50: list.reduce((s, x) => s + x.p50, 0) / list.length,
        claimed: list.reduce((s, x) => s + x.claimed, 0),
      });
      const before = mean(totals.before);
      const now = mean(totals.now);
      rows.push(`| ${label} | before: BEGIN, claim, event per command, COMMIT | ${before.perSecond.toFixed(0)} | ${before.p50.toFixed(2)} | ${before.claimed} |`);
      rows.push(`| ${label} | now: CLAIM with its events, NOTIFY after | ${now.perSecond.toFixed(0)} | ${now.p50.toFixed(2)} | ${now.claimed} |`);
      notes.push(`- ${label}: now / before = ${((now.perSecond / before.perSecond) * 100).toFixed(0)} % of the throughput.`);
      ctx.log(`${label}: ${before.perSecond.toFixed(0)} → ${now.perSecond.toFixed(0)} hand-outs/s`);
    }
  } finally {
    await pool.end();
  }
  return [
    '## Hand-out statement: before and after the perf round',
    '',
    `\`bench/hand-out-shape.bench.ts\`. Raw pg, 10 workers (one agent each, five dongles), ${ROUNDS} alternating rounds of ${ROUND_MS / 1000} s after a warm-up; p50 = mean of rounds. Load average (1 min) at the end: ${(await import('node:os')).loadavg()[0]!.toFixed(1)} on the 2 shared cores.`,
    '',
    '| case | shape | hand-outs/s | p50 ms | commands claimed (all rounds) |',
    '|---|---|---:|---:|---:|',
    ...rows,
    '',
    ...notes,
    '',
  ].join('\n');
}
