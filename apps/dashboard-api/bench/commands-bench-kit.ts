// Shared parts of the command benches (agent-poll, agent-claim, dongle-list, command-create,
// commands-scale): a child process serving the real app and the bare baseline
// (bench/baseline/server.ts) side by side, fleet seeding in bulk SQL, autocannon runs and the
// markdown they report. Not a bench itself (the runner only loads *.bench.ts).
//
// Both servers live in one child so the load generator (this process) never shares their
// event loop; they are measured one after the other, never at the same time.
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import pg from 'pg';

const SERVE_FLAG = '--serve-commands-bench';
export const DURATION_S = 3;
export const ROUNDS = 2;
export const WARMUP_S = 1;
export const CONNECTIONS = 10;

export interface Servers {
  appUrl: string;
  baselineUrl: string;
  stop(): Promise<void>;
}

// ---------------------------------------------------------------- child

async function serve(databaseUrl: string, sessionSecret: string): Promise<void> {
  const { loadConfig } = await import('../src/config.ts');
  const { connectDatabase } = await import('../src/platform/database.ts');
  const { createLogger } = await import('../src/platform/logger.ts');
  const { startServer } = await import('../src/server.ts');
  const { startBaselineServer } = await import('./baseline/server.ts');
  // Production settings except logging, which is off for both sides (the baseline logs nothing).
  const config = loadConfig({ NODE_ENV: 'development', DATABASE_URL: databaseUrl, LOG_LEVEL: 'silent', EMAIL_SENDER_ENABLED: 'false', RATE_LIMIT_LOGIN_IP: '100000000/900', RATE_LIMIT_LOGIN_ACCOUNT: '100000000/900' });
  const logger = createLogger({ level: 'silent' });
  const db = connectDatabase({ url: databaseUrl, poolMax: config.databasePoolMax, logger });
  const running = await startServer({ config, logger, db, sessionSecret }, { port: 0, host: '127.0.0.1' });
  const baseline = await startBaselineServer({ databaseUrl, sessionSecret, poolMax: config.databasePoolMax });
  process.send!({ appUrl: running.url, baselineUrl: baseline.url });
  process.on('message', async (message) => {
    if (message !== 'stop') return;
    await baseline.close();
    await running.stop();
    await db.close();
    process.exit(0);
  });
}

if (process.argv.includes(SERVE_FLAG)) {
  const at = process.argv.indexOf(SERVE_FLAG);
  serve(process.argv[at + 1]!, process.argv[at + 2]!).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}

// ---------------------------------------------------------------- parent

export const SESSION_SECRET = randomBytes(32).toString('hex');

export async function startServers(databaseUrl: string): Promise<Servers> {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), [SERVE_FLAG, databaseUrl, SESSION_SECRET], {
    // BENCH_CPU_PROF=dir writes a V8 CPU profile of the servers, for finding where time goes.
    execArgv: ['--import', 'tsx', ...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [])],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const ready = await new Promise<{ appUrl: string; baselineUrl: string }>((resolve, reject) => {
    child.once('message', (message) => resolve(message as { appUrl: string; baselineUrl: string }));
    child.once('exit', (code) => reject(new Error(`bench server exited with ${code}`)));
  });
  return {
    ...ready,
    async stop() {
      child.send('stop');
      await new Promise((resolve) => child.once('exit', resolve));
    },
  };
}

export interface Summary {
  label: string;
  /** 2xx responses per second. */
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
}

export interface Contender {
  label: string;
  options: autocannon.Options;
  /** Runs before each of its measured rounds (e.g. refilling a queue). */
  before?: () => Promise<void>;
}

/**
 * Measures the contenders in alternation (A B A B …, ROUNDS rounds of DURATION_S each, after one
 * warm-up each), so a load change on the shared machine hits both sides alike. req/s is over all
 * rounds; p50 is the mean of the rounds' p50, p99 the worst round's p99.
 */
export async function compare(contenders: Contender[], log: (line: string) => void): Promise<Summary[]> {
  const totals = contenders.map((c) => ({ label: c.label, ok: 0, non2xx: 0, errors: 0, p50: [] as number[], p99: [] as number[] }));
  for (const c of contenders) {
    await c.before?.();
    await autocannon({ connections: CONNECTIONS, ...c.options, duration: WARMUP_S });
  }
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, c] of contenders.entries()) {
      await c.before?.();
      const result = await autocannon({ connections: CONNECTIONS, ...c.options, duration: DURATION_S });
      const t = totals[i]!;
      t.ok += result['2xx'];
      t.non2xx += result.non2xx;
      t.errors += result.errors + result.timeouts;
      t.p50.push(result.latency.p50);
      t.p99.push(result.latency.p99);
    }
  }
  return totals.map((t) => {
    const summary = { label: t.label, rps: t.ok / (DURATION_S * ROUNDS), p50: Math.round(t.p50.reduce((a, b) => a + b, 0) / t.p50.length), p99: Math.max(...t.p99), non2xx: t.non2xx, errors: t.errors };
    log(`  ${summary.label}: ${summary.rps.toFixed(0)} req/s, p50 ${summary.p50} ms, p99 ${summary.p99} ms, non-2xx ${summary.non2xx}, errors ${summary.errors}`);
    return summary;
  });
}

/** Assigns each autocannon connection its own value (agent token, cookie…) on its first request. */
export function perConnection<T>(values: T[]) {
  let next = 0;
  return (context: object): T => {
    const slotted = context as { slot?: number };
    slotted.slot ??= next++ % values.length;
    return values[slotted.slot]!;
  };
}

export const pct = (value: number) => `${(value * 100).toFixed(0)} %`;
export const verdict = (ratio: number, target: number) => (ratio >= target ? 'met' : '**missed**');

export function table(rows: Summary[]): string[] {
  return [
    '| measurement | req/s (2xx) | p50 ms | p99 ms | non-2xx | errors |',
    '|---|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.label} | ${r.rps.toFixed(0)} | ${r.p50} | ${r.p99} | ${r.non2xx} | ${r.errors} |`),
  ];
}

export const setupLine = () =>
  `App and baseline in one child process, measured in alternation (${ROUNDS} rounds of ${DURATION_S} s each after a ${WARMUP_S} s warm-up; p50 = mean of rounds, p99 = worst round); autocannon in the parent, ${CONNECTIONS} connections; PostgreSQL on the same ${os.cpus().length}-core machine, which other work shares. Logging off on both sides.`;

// ---------------------------------------------------------------- seeding

export interface SeededAgent {
  userId: string;
  /** The user's personal organization, which the v0.7-shaped inserts below land in (trigger). */
  organizationId: string;
  agentId: string;
  token: string;
  dongleIds: string[];
}

export interface FleetShape {
  users: number;
  /** One agent per user, reporting this many CLAIMED_ACTIVE dongles. */
  donglesPerUser: number;
  /** Finished commands per dongle, so queries do not run on empty tables. */
  historyPerDongle: number;
  /** A distinguishable prefix for emails and hostnames. */
  label: string;
}

/** Users (with a real argon2 hash of `password` when given), agents with tokens, dongles, history. */
export async function seedFleet(pool: pg.Pool, shape: FleetShape, passwordHash = 'not-a-login-user'): Promise<SeededAgent[]> {
  const { sha256Hex } = await import('../src/platform/secrets.ts');
  const seeded: SeededAgent[] = [];
  for (let u = 0; u < shape.users; u++) {
    const token = randomBytes(32).toString('base64url');
    const { rows: [user] } = await pool.query(
      `INSERT INTO users (email, password_hash, email_verified_at) VALUES ($1, $2, now()) RETURNING id`,
      [`${shape.label}-${u}-${randomBytes(4).toString('hex')}@bench.test`, passwordHash],
    );
    const { rows: [agent] } = await pool.query(
      `INSERT INTO agents (user_id, name, hostname, os, version, last_seen_at) VALUES ($1, 'bench', 'bench.local', 'linux', '1.0.0', now()) RETURNING id, organization_id::text AS "organizationId"`,
      [user.id],
    );
    await pool.query(`INSERT INTO agent_tokens (agent_id, token_hash) VALUES ($1, $2)`, [agent.id, sha256Hex(token)]);
    const { rows: dongles } = await pool.query(
      `INSERT INTO dongles (device_id, owner_user_id, ownership_state, last_seen_at, last_seen_agent_id)
       SELECT substr(md5(gen_random_uuid()::text), 1, 16), $1, 'CLAIMED_ACTIVE', now(), $2 FROM generate_series(1, $3)
       RETURNING id`,
      [user.id, agent.id, shape.donglesPerUser],
    );
    const dongleIds = dongles.map((d) => d.id as string);
    if (shape.historyPerDongle > 0) {
      await pool.query(
        `INSERT INTO commands (dongle_id, created_by_user_id, agent_id, type, status, result, expires_at, delivered_at, completed_at, created_at)
         SELECT d, $2, $3, 'PING', 'SUCCEEDED', '{"pong":true}', now() - interval '1 hour', now() - interval '1 hour', now() - interval '1 hour',
                now() - interval '2 hours' + g * interval '1 second'
           FROM unnest($1::uuid[]) d, generate_series(1, $4) g`,
        [dongleIds, user.id, agent.id, shape.historyPerDongle],
      );
    }
    seeded.push({ userId: user.id, organizationId: agent.organizationId, agentId: agent.id, token, dongleIds });
  }
  return seeded;
}

/** Keeps seeded dongles "recently reported" (the hand-out only serves dongles seen in 5 minutes). */
export async function refreshSightings(pool: pg.Pool, agents: SeededAgent[]): Promise<void> {
  await pool.query(`UPDATE dongles SET last_seen_at = now() WHERE last_seen_agent_id = ANY($1::uuid[])`, [agents.map((a) => a.agentId)]);
}

/** `perDongle` fresh QUEUED commands on every dongle of these agents, TTL one hour. */
export async function queueCommands(pool: pg.Pool, agents: SeededAgent[], perDongle: number): Promise<void> {
  for (const agent of agents) {
    await pool.query(
      `INSERT INTO commands (dongle_id, created_by_user_id, type, payload, expires_at, created_at)
       SELECT d, $2, 'PING', '{}', now() + interval '1 hour', clock_timestamp() FROM unnest($1::uuid[]) d, generate_series(1, $3)`,
      [agent.dongleIds, agent.userId, perDongle],
    );
  }
}

/** Logs a seeded user in through the app; returns the session cookie. */
export async function login(appUrl: string, email: string, password: string): Promise<{ cookie: string; csrfToken: string }> {
  const res = await fetch(`${appUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) });
  if (res.status !== 200) throw new Error(`bench login failed: ${res.status} ${await res.text()}`);
  const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0]!;
  return { cookie, csrfToken: ((await res.json()) as { csrfToken: string }).csrfToken };
}

/** A user who can log in (real argon2 hash), with one agent and `dongles` CLAIMED_ACTIVE dongles. */
export async function seedLoginUser(pool: pg.Pool, label: string, dongles: number, historyPerDongle: number) {
  const { PasswordHasher } = await import('../src/features/auth/password-hashing.ts');
  const password = 'bench password that is long enough';
  const [seeded] = await seedFleet(pool, { users: 1, donglesPerUser: dongles, historyPerDongle, label }, await new PasswordHasher().hash(password));
  const { rows: [user] } = await pool.query('SELECT email FROM users WHERE id = $1', [seeded!.userId]);
  return { ...seeded!, email: user.email as string, password };
}
