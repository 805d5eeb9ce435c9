// Scale: do the hot queries keep their speed with 100k dongles and 1M commands?
//
// Two scratch databases hold the same small fleet (ten agents with five dongles each, one
// operator with 60 dongles); the "large" one also holds 10k other operators with 100k dongles
// and 1M commands of history (bulk-inserted with generate_series, then ANALYZEd). Each gets its
// own app server; the two are measured in alternation, so machine load hits both alike.
// Targets: at scale, the idle agent poll ≥ 90 % and the dongle list ≥ 80 % of the small-fleet
// req/s; EXPLAIN shows no sequential scan on the hot queries.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { applyMigrations } from '../src/tooling/migrator.ts';
import { CLAIM, claimParams, EXPIRE_BATCH, RESULT, TIME_OUT_BATCH } from '../src/features/commands/commands.sql.ts';
import { historyPageSql } from '../src/features/commands/commands.service.ts';
import type { BenchContext } from './run.ts';
import { compare, login, pct, perConnection, refreshSightings, seedFleet, seedLoginUser, setupLine, startServers, table, verdict, type Contender, type SeededAgent } from './commands-bench-kit.ts';

const SCALE_USERS = 10_000;
const SCALE_DONGLES = 100_000;
const SCALE_COMMANDS = 1_000_000;

async function scratchDatabase(adminUrl: string, label: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `bench_${label}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  await applyMigrations(url.toString());
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await client.end();
    },
  };
}

async function seedSmallFleet(pool: pg.Pool) {
  const agents = await seedFleet(pool, { users: 10, donglesPerUser: 5, historyPerDongle: 20, label: 'scale-agent' });
  const operator = await seedLoginUser(pool, 'scale-operator', 60, 5);
  return { agents, operator };
}

/** 10k operators, each with an agent and 10 dongles; 1M commands spread over those dongles. */
async function bulkLoad(pool: pg.Pool, log: (line: string) => void): Promise<void> {
  const started = Date.now();
  const client = await pool.connect();
  try {
    await client.query(`INSERT INTO users (email, password_hash, email_verified_at) SELECT 'bulk-' || g || '@bench.test', 'x', now() FROM generate_series(1, ${SCALE_USERS}) g`);
    await client.query(`INSERT INTO agents (user_id, name, hostname, os, version, last_seen_at) SELECT id, 'bulk', 'bulk.local', 'linux', '1.0.0', now() FROM users WHERE email LIKE 'bulk-%'`);
    await client.query(`INSERT INTO agent_tokens (agent_id, token_hash) SELECT id, md5(id::text) || md5(random()::text) FROM agents WHERE name = 'bulk'`);
    await client.query(`CREATE TEMP TABLE bulk_owner AS SELECT a.user_id, a.id AS agent_id, (row_number() OVER (ORDER BY a.id)) - 1 AS n FROM agents a WHERE a.name = 'bulk'`);
    await client.query(`
      INSERT INTO dongles (device_id, owner_user_id, ownership_state, last_seen_at, last_seen_agent_id, created_at)
      SELECT 'ee' || lpad(to_hex(g), 14, '0'), o.user_id, 'CLAIMED_ACTIVE', now() - random() * interval '1 day', o.agent_id, now() - g * interval '1 second'
        FROM generate_series(0, ${SCALE_DONGLES - 1}) g JOIN bulk_owner o ON o.n = g / ${SCALE_DONGLES / SCALE_USERS}`);
    await client.query(`CREATE TEMP TABLE bulk_dongle AS SELECT id, owner_user_id, last_seen_agent_id, (row_number() OVER (ORDER BY id)) - 1 AS n FROM dongles WHERE device_id LIKE 'ee%'`);
    // 1 % QUEUED (for other agents, not yet due), 1 % DELIVERED (answer due in an hour), the rest finished.
    await client.query(`
      INSERT INTO commands (dongle_id, created_by_user_id, agent_id, type, payload, status, result, expires_at, timeout_seconds, delivered_at, completed_at, created_at)
      SELECT d.id, d.owner_user_id,
             CASE WHEN g % 100 = 0 THEN NULL ELSE d.last_seen_agent_id END,
             (ARRAY['PING','GET_STATUS','SEND_FRAME','REBOOT','START_CAPTURE'])[1 + g % 5]::command_type,
             '{}'::jsonb,
             (CASE WHEN g % 100 = 0 THEN 'QUEUED' WHEN g % 100 = 1 THEN 'DELIVERED' WHEN g % 100 < 5 THEN 'EXPIRED' WHEN g % 100 < 10 THEN 'FAILED' ELSE 'SUCCEEDED' END)::command_status,
             CASE WHEN g % 100 >= 10 THEN '{"ok":true}'::jsonb END,
             CASE WHEN g % 100 = 0 THEN now() + interval '1 hour' ELSE now() - interval '1 day' END,
             3600,
             CASE WHEN g % 100 = 0 THEN NULL WHEN g % 100 = 1 THEN now() ELSE now() - interval '1 day' END,
             CASE WHEN g % 100 > 1 THEN now() - interval '1 day' END,
             now() - (g % 2592000) * interval '1 second'
        FROM generate_series(0, ${SCALE_COMMANDS - 1}) g JOIN bulk_dongle d ON d.n = g % ${SCALE_DONGLES}`);
    await client.query('ANALYZE');
  } finally {
    client.release();
  }
  log(`  bulk load: ${SCALE_USERS} users, ${SCALE_DONGLES} dongles, ${SCALE_COMMANDS} commands in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

interface Explained {
  query: string;
  nodes: string;
  seqScan: boolean;
  ms: number;
}

/** EXPLAIN ANALYZE inside a rolled-back transaction (some of these statements write). */
async function explain(pool: pg.Pool, query: string, text: string, values: unknown[]): Promise<Explained> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const { rows } = await client.query(`EXPLAIN (ANALYZE, FORMAT JSON) ${text}`, values);
    const plan = (rows[0]['QUERY PLAN'] as [{ Plan: PlanNode; 'Execution Time': number }])[0];
    const names: string[] = [];
    const walk = (node: PlanNode) => {
      names.push(node['Index Name'] ? `${node['Node Type']} (${node['Index Name']})` : node['Relation Name'] ? `${node['Node Type']} (${node['Relation Name']})` : node['Node Type']);
      for (const child of node.Plans ?? []) walk(child);
    };
    walk(plan.Plan);
    return { query, nodes: [...new Set(names)].join(', '), seqScan: names.some((n) => n.startsWith('Seq Scan')), ms: plan['Execution Time'] };
  } finally {
    await client.query('ROLLBACK');
    client.release();
  }
}

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

async function explainHotQueries(pool: pg.Pool, agent: SeededAgent, operatorId: string): Promise<Explained[]> {
  const [{ id: someCommand }] = (await pool.query(`SELECT id FROM commands WHERE dongle_id = $1 LIMIT 1`, [agent.dongleIds[0]])).rows;
  const history = historyPageSql(agent.organizationId, agent.dongleIds[0]!, { limit: 50 });
  const historyFiltered = historyPageSql(agent.organizationId, agent.dongleIds[0]!, { limit: 50, status: 'SUCCEEDED' });
  const [{ token_hash: tokenHash, id: tokenId }] = (await pool.query(`SELECT token_hash, id FROM agent_tokens WHERE agent_id = $1`, [agent.agentId])).rows;
  return [
    await explain(pool, 'agent guard: token by hash', `SELECT id, revoked_at, agent_id FROM agent_tokens WHERE token_hash = $1 LIMIT 1`, [tokenHash]),
    await explain(pool, 'hand-out (poll): CLAIM', CLAIM.text, claimParams({ id: agent.agentId, organizationId: agent.organizationId, tokenId }, 10)),
    await explain(pool, 'result post: RESULT', RESULT.text, [someCommand, agent.agentId, 'SUCCEEDED', '{}', null]),
    await explain(pool, 'command history page', history.text, history.values),
    await explain(pool, 'command history page, status filter', historyFiltered.text, historyFiltered.values),
    await explain(pool, 'dongle list: page of ids (fleet)', `SELECT id::text AS id, created_at::text AS k FROM "dongles" WHERE (owner_user_id = $1::uuid) AND TRUE ORDER BY created_at DESC, id DESC LIMIT $2`, [operatorId, 51]),
    await explain(pool, 'sweeper: expire overdue QUEUED', EXPIRE_BATCH.text, []),
    await explain(pool, 'sweeper: time out overdue DELIVERED', TIME_OUT_BATCH.text, []),
  ];
}

export default async function commandsScaleBench(ctx: BenchContext): Promise<string> {
  const small = await scratchDatabase(ctx.adminDatabaseUrl, 'small');
  const large = await scratchDatabase(ctx.adminDatabaseUrl, 'large');
  const smallPool = new pg.Pool({ connectionString: small.url, max: 2 });
  const largePool = new pg.Pool({ connectionString: large.url, max: 2 });
  let smallServers, largeServers;
  try {
    const smallFleet = await seedSmallFleet(smallPool);
    const largeFleet = await seedSmallFleet(largePool);
    await bulkLoad(largePool, ctx.log);
    smallServers = await startServers(small.url);
    largeServers = await startServers(large.url);

    const pollOptions = (url: string, agents: SeededAgent[]): Contender['options'] => {
      const token = perConnection(agents.map((a) => a.token));
      return { url, requests: [{ method: 'GET', path: '/api/agent/commands?wait=0', setupRequest: (req, context) => ({ ...req, headers: { authorization: `Bearer ${token(context)}` } }) }] };
    };
    const listOptions = async (url: string, operator: { email: string; password: string }): Promise<Contender['options']> => {
      const { cookie } = await login(url, operator.email, operator.password);
      return { url, requests: [{ method: 'GET', path: '/api/dongles', headers: { cookie } }] };
    };
    const fresh = () => Promise.all([refreshSightings(smallPool, smallFleet.agents), refreshSightings(largePool, largeFleet.agents)]).then(() => undefined);

    const [pollSmall, pollLarge] = await compare(
      [
        { label: 'poll, nothing pending — small fleet', options: pollOptions(smallServers.appUrl, smallFleet.agents), before: fresh },
        { label: `poll, nothing pending — ${SCALE_DONGLES / 1000}k dongles, ${SCALE_COMMANDS / 1e6}M commands`, options: pollOptions(largeServers.appUrl, largeFleet.agents), before: fresh },
      ],
      ctx.log,
    );
    const [listSmall, listLarge] = await compare(
      [
        { label: 'GET /api/dongles — small fleet', options: await listOptions(smallServers.appUrl, smallFleet.operator) },
        { label: `GET /api/dongles — ${SCALE_DONGLES / 1000}k dongles, ${SCALE_COMMANDS / 1e6}M commands`, options: await listOptions(largeServers.appUrl, largeFleet.operator) },
      ],
      ctx.log,
    );
    const plans = await explainHotQueries(largePool, largeFleet.agents[0]!, largeFleet.operator.userId);
    for (const plan of plans) ctx.log(`  EXPLAIN ${plan.query}: ${plan.seqScan ? 'SEQ SCAN' : 'no seq scan'} (${plan.ms.toFixed(2)} ms)`);

    const pollRatio = pollLarge!.rps / pollSmall!.rps;
    const listRatio = listLarge!.rps / listSmall!.rps;
    return [
      '## Scale: 100k dongles, 1M commands',
      '',
      setupLine(),
      `Two databases with the same small fleet; the large one also holds ${SCALE_USERS.toLocaleString('en')} operators, ${SCALE_DONGLES.toLocaleString('en')} dongles and ${SCALE_COMMANDS.toLocaleString('en')} commands (1 % QUEUED for other agents, 1 % DELIVERED, the rest finished), bulk-inserted with generate_series and ANALYZEd. One app server per database, measured in alternation.`,
      '',
      ...table([pollSmall!, pollLarge!, listSmall!, listLarge!]),
      '',
      `- Idle poll at scale: ${pct(pollRatio)} of the small fleet (target ≥ 90 %): ${verdict(pollRatio, 0.9)}.`,
      `- Dongle list at scale: ${pct(listRatio)} of the small fleet (target ≥ 80 %): ${verdict(listRatio, 0.8)}.`,
      '',
      'EXPLAIN ANALYZE on the large database (inside a rolled-back transaction):',
      '',
      '| hot query | sequential scan | plan nodes | execution ms |',
      '|---|---|---|---:|',
      ...plans.map((p) => `| ${p.query} | ${p.seqScan ? '**yes**' : 'no'} | ${p.nodes} | ${p.ms.toFixed(2)} |`),
      '',
    ].join('\n');
  } finally {
    await smallServers?.stop();
    await largeServers?.stop();
    await smallPool.end();
    await largePool.end();
    await small.drop();
    await large.drop();
  }
}
