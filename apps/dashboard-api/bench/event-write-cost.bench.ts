// What the event log costs the command path (issue 13): command create + result, the app's own
// statements on raw pg, with the events the app writes (command.created, command.succeeded)
// against the same two transactions without them. Ten workers at once, two shapes: every
// worker in one organization (the per-organization ordering lock serialises their event
// inserts), and each worker in its own organization.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { BenchContext } from './run.ts';

const WORKERS = 10;
const ROUND_MS = 3_000;
const ROUNDS = 2;

const INSERT_COMMAND = `INSERT INTO commands (dongle_id, created_by_user_id, type, payload, expires_at, timeout_seconds)
VALUES ($1::uuid, $2::uuid, 'PING', '{}'::jsonb, now() + interval '1 hour', 30) RETURNING id::text, organization_id::text`;
const DELIVER = `UPDATE commands SET status = 'DELIVERED', agent_id = $2, delivered_at = now() WHERE id = $1`;

interface Worker {
  orgId: string;
  userId: string;
  agentId: string;
  dongleId: string;
}

async function seed(pool: pg.Pool, sameOrg: boolean): Promise<Worker[]> {
  const workers: Worker[] = [];
  let shared: { orgId: string; userId: string; agentId: string } | undefined;
  for (let i = 0; i < WORKERS; i++) {
    if (!shared || !sameOrg) {
      const { rows: [u] } = await pool.query(`INSERT INTO users (email, password_hash) VALUES ($1, 'x') RETURNING id::text`, [`cost-${randomUUID()}@bench.test`]);
      const { rows: [o] } = await pool.query(`SELECT id::text FROM organizations WHERE personal_owner_user_id = $1::uuid`, [u.id]);
      const { rows: [a] } = await pool.query(`INSERT INTO agents (user_id, organization_id, name, hostname, os, version) VALUES ($1, $2, 'b', 'b', 'linux', '1') RETURNING id::text`, [u.id, o.id]);
      shared = { orgId: o.id, userId: u.id, agentId: a.id };
    }
    const { rows: [d] } = await pool.query(
      `INSERT INTO dongles (device_id, organization_id, owner_user_id, ownership_state, last_seen_at, last_seen_agent_id)
       VALUES (substr(md5(random()::text), 1, 16), $1, $2, 'CLAIMED_ACTIVE', now(), $3) RETURNING id::text`,
      [shared.orgId, shared.userId, shared.agentId],
    );
    workers.push({ ...shared, dongleId: d.id });
  }
  return workers;
}

/** off: no events; inTx: the writer's NOTIFY inside both transactions (before); after: the result's event NOTIFYs after its commit, as the app now does. */
type Mode = 'off' | 'inTx' | 'after';

async function iteration(pool: pg.Pool, w: Worker, mode: Mode): Promise<void> {
  const withEvents = mode !== 'off';
  const { announceEvents, recordEvent } = await import('../src/platform/events/event-writer.ts');
  const { inPgTransaction } = await import('../src/platform/database.ts');
  const { INSERT_AUDIT } = await import('../src/platform/audit/audit-writer.ts');
  const { RESULT } = await import('../src/features/commands/commands.sql.ts');
  const audit = (client: pg.PoolClient, action: string, id: string) =>
    client.query(INSERT_AUDIT, ['user', w.userId, action, 'command', id, 'success', null, null, JSON.stringify({ dongleId: w.dongleId }), null]);
  const command = await inPgTransaction(pool, async (client) => {
    const { rows: [c] } = await client.query(INSERT_COMMAND, [w.dongleId, w.userId]);
    await audit(client, 'command.create', c.id);
    if (withEvents) await recordEvent(client, { organizationId: c.organization_id, type: 'command.created', subjectId: c.id, data: { dongleId: w.dongleId, type: 'PING' } });
    await client.query(`SELECT pg_notify('commands', $1)`, [w.userId]);
    return c as { id: string; organization_id: string };
  });
  await pool.query(DELIVER, [command.id, w.agentId]);
  await inPgTransaction(pool, async (client) => {
    await client.query(RESULT.text, [command.id, w.agentId, 'SUCCEEDED', '{"pong":true}', null]);
    await audit(client, 'command.result', command.id);
    if (withEvents) await recordEvent(client, { organizationId: command.organization_id, type: 'command.succeeded', subjectId: command.id, data: { dongleId: w.dongleId, type: 'PING' } }, { notify: mode === 'inTx' });
  });
  if (mode === 'after') announceEvents(pool);
}

async function round(pool: pg.Pool, workers: Worker[], mode: Mode): Promise<{ perSecond: number; p50: number; p99: number }> {
  const latencies: number[] = [];
  const deadline = performance.now() + ROUND_MS;
  await Promise.all(
    workers.map(async (w) => {
      while (performance.now() < deadline) {
        const started = performance.now();
        await iteration(pool, w, mode);
        latencies.push(performance.now() - started);
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  return { perSecond: latencies.length / (ROUND_MS / 1000), p50: latencies[Math.floor(latencies.length / 2)]!, p99: latencies[Math.floor(latencies.length * 0.99)]! };
}

export default async function eventWriteCostBench(ctx: BenchContext): Promise<string> {
  const pool = new pg.Pool({ connectionString: ctx.databaseUrl, max: WORKERS });
  pool.on('error', () => undefined); // the embedded server stopping after the run
  const rows: string[] = [];
  const notes: string[] = [];
  try {
    for (const sameOrg of [true, false]) {
      const workers = await seed(pool, sameOrg);
      await round(pool, workers, 'inTx'); // warm-up
      const totals = { off: [] as Awaited<ReturnType<typeof round>>[], on: [] as Awaited<ReturnType<typeof round>>[], after: [] as Awaited<ReturnType<typeof round>>[] };
      for (let r = 0; r < ROUNDS; r++) {
        totals.off.push(await round(pool, workers, 'off'));
        totals.on.push(await round(pool, workers, 'inTx'));
        totals.after.push(await round(pool, workers, 'after'));
      }
      const mean = (list: Awaited<ReturnType<typeof round>>[]) => ({
        perSecond: list.reduce((s, x) => s + x.perSecond, 0) / list.length,
        p50: list.reduce((s, x) => s + x.p50, 0) / list.length,
        p99: Math.max(...list.map((x) => x.p99)),
      });
      const off = mean(totals.off);
      const on = mean(totals.on);
      const after = mean(totals.after);
      const shape = sameOrg ? `${WORKERS} workers, one organization` : `${WORKERS} workers, ${WORKERS} organizations`;
      rows.push(`| ${shape} | without events | ${off.perSecond.toFixed(0)} | ${off.p50.toFixed(1)} | ${off.p99.toFixed(1)} |`);
      rows.push(`| ${shape} | with events, NOTIFY in both transactions (before) | ${on.perSecond.toFixed(0)} | ${on.p50.toFixed(1)} | ${on.p99.toFixed(1)} |`);
      rows.push(`| ${shape} | with events, the result's NOTIFY after its commit (now) | ${after.perSecond.toFixed(0)} | ${after.p50.toFixed(1)} | ${after.p99.toFixed(1)} |`);
      notes.push(`- ${shape}: with events / without = ${((on.perSecond / off.perSecond) * 100).toFixed(0)} % of the throughput before, ${((after.perSecond / off.perSecond) * 100).toFixed(0)} % now.`);
      ctx.log(`${shape}: ${off.perSecond.toFixed(0)} → ${on.perSecond.toFixed(0)} (in tx) / ${after.perSecond.toFixed(0)} (after commit) iterations/s`);
    }
  } finally {
    await pool.end();
  }
  return [
    '## Event write cost: command create + result',
    '',
    `\`bench/event-write-cost.bench.ts\`. One iteration = the create transaction (command INSERT, audit row, NOTIFY) + the hand-out UPDATE + the result transaction (the service's RESULT statement, audit row), on raw pg with the app's statements; "with events" adds the writer's statement to each transaction (command.created, command.succeeded: per-organization lock, event row, webhook outbox, NOTIFY); "now" is what the app does since the perf round: the result's event without NOTIFY and one coalesced \`pg_notify\` after its COMMIT (\`announceEvents\`; the create transaction NOTIFYs the agents anyway, so its event keeps its NOTIFY). ${ROUNDS} alternating rounds of ${ROUND_MS / 1000} s after a warm-up; p50 = mean of rounds, p99 = worst round. No webhooks configured.`,
    '',
    '| shape | variant | iterations/s | p50 ms | p99 ms |',
    '|---|---|---:|---:|---:|',
    ...rows,
    '',
    ...notes,
    '- PostgreSQL holds one global lock from a NOTIFYing transaction\'s pre-commit to the end of its commit, so every such commit waits for the previous one; the result transaction had no NOTIFY before the event log.',
    '- No target in the issue. The one-organization shape is the worst case of the ordering lock: concurrent event-writing transactions of one organization wait for each other from their event insert to their commit.',
    '',
  ].join('\n');
}
