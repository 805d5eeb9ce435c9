// Login under load, against a real server in a child process (so the load generator does not
// share the server's event loop):
//  1. login throughput at the configured argon2 cost vs. a baseline in the same run: a bare
//     argon2.verify behind the same concurrency limiter (PasswordHasher), served over HTTP by
//     the same child. Target: login ≥ 90 % of the baseline (the rest of a login — rate-limit
//     counters, user lookup, audit row, session insert — must be small next to argon2).
//  2. p99 of an authenticated GET (/api/auth/session) at a steady 100 req/s, alone and during a
//     login storm. Target: under the storm ≤ 2× alone (argon2 runs in the thread pool behind a
//     limiter that leaves a core free, so a storm must not starve other requests). The same GET
//     flat out (closed loop) is reported for context: it measures shared capacity instead.
import { fork, type ChildProcess } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import type { BenchContext } from './run.ts';

const SERVE_FLAG = '--serve-login-bench';
const DURATION_S = 10;
const LOGIN_CONNECTIONS = 8;
const STORM_CONNECTIONS = 16;
const GET_CONNECTIONS = 4;
const GET_RATE = 100;
const ROUNDS = 4;
const ROUND_S = 5;

interface ChildReady {
  url: string;
  baselineUrl: string;
  email: string;
  password: string;
  argon2: string;
  limiter: string;
}

// ---------------------------------------------------------------- child: the servers

async function serve(databaseUrl: string): Promise<void> {
  const express = (await import('express')).default;
  const { loadConfig } = await import('../src/config.ts');
  const { PasswordHasher } = await import('../src/features/auth/password-hashing.ts');
  const { connectDatabase } = await import('../src/platform/database.ts');
  const { createLogger } = await import('../src/platform/logger.ts');
  const { startServer } = await import('../src/server.ts');
  const { generateSecret } = await import('../src/platform/secrets.ts');

  // Limits far above the load, but enabled: their counters cost what they cost in production.
  const huge = '100000000/900';
  const config = loadConfig({
    NODE_ENV: 'development',
    DATABASE_URL: databaseUrl,
    LOG_LEVEL: 'silent',
    EMAIL_SENDER_ENABLED: 'false',
    RATE_LIMIT_LOGIN_IP: huge,
    RATE_LIMIT_LOGIN_ACCOUNT: huge,
  });
  const logger = createLogger({ level: 'silent' });
  const db = connectDatabase({ url: databaseUrl, poolMax: config.databasePoolMax, logger });
  const hasher = PasswordHasher.fromConfig(config);
  const password = 'bench password that is long enough';
  const email = `bench-${generateSecret(6).toLowerCase()}@example.test`;
  await db.prisma.user.create({ data: { email, passwordHash: await hasher.hash(password), emailVerifiedAt: new Date() } });
  const running = await startServer({ config, logger, db, hasher, sessionSecret: generateSecret() }, { port: 0, host: '127.0.0.1' });

  // The baseline: the same limiter and argon2 parameters, nothing else.
  const bare = PasswordHasher.fromConfig(config);
  const storedHash = await bare.hash(password);
  const baseline = express();
  baseline.use(express.json());
  baseline.post('/verify', async (req, res) => {
    const ok = await bare.verify(storedHash, String(req.body?.password ?? ''));
    res.status(ok ? 200 : 401).json({ ok });
  });
  const baselineServer = baseline.listen(0, '127.0.0.1');
  await new Promise((resolve) => baselineServer.once('listening', resolve));

  const ready: ChildReady = {
    url: running.url,
    baselineUrl: `http://127.0.0.1:${(baselineServer.address() as AddressInfo).port}`,
    email,
    password,
    argon2: `argon2id m=${hasher.params.memoryCost} KiB, t=${hasher.params.timeCost}, p=${hasher.params.parallelism}`,
    limiter: `${hasher.limits.maxConcurrent} concurrent, ${hasher.limits.maxQueued} queued (default: one fewer than the cores)`,
  };
  process.send!(ready);
  process.on('message', async (message) => {
    if (message !== 'stop') return;
    baselineServer.close();
    await running.stop();
    await db.close();
    process.exit(0);
  });
}

if (process.argv.includes(SERVE_FLAG)) {
  serve(process.argv[process.argv.indexOf(SERVE_FLAG) + 1]!).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}

// ---------------------------------------------------------------- parent: the load

function run(options: autocannon.Options): Promise<autocannon.Result> {
  return autocannon({ duration: DURATION_S, ...options });
}

interface Summary {
  okPerSecond: number;
  non2xx: number;
  p50: number;
  p99: number;
}

function summary(result: autocannon.Result): Summary {
  return { okPerSecond: result['2xx'] / DURATION_S, non2xx: result.non2xx, p50: result.latency.p50, p99: result.latency.p99 };
}

/** Several runs as one: total successes over total time; latencies are the worst run's. */
function combined(results: autocannon.Result[], seconds: number): Summary {
  return {
    okPerSecond: results.reduce((sum, r) => sum + r['2xx'], 0) / seconds,
    non2xx: results.reduce((sum, r) => sum + r.non2xx, 0),
    p50: Math.max(...results.map((r) => r.latency.p50)),
    p99: Math.max(...results.map((r) => r.latency.p99)),
  };
}

const fmt = (n: number, digits = 1) => n.toFixed(digits);

export default async function loginBench(ctx: BenchContext): Promise<string> {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), [SERVE_FLAG, ctx.databaseUrl], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ready = await new Promise<ChildReady>((resolve, reject) => {
    child.once('message', (message) => resolve(message as ChildReady));
    child.once('exit', (code) => reject(new Error(`bench server exited with ${code}`)));
  });
  try {
    const loginBody = JSON.stringify({ email: ready.email, password: ready.password });
    const json = { 'content-type': 'application/json' };

    const loadBefore = os.loadavg()[0]!;
    ctx.log('  warm-up');
    await autocannon({ url: `${ready.url}/api/auth/login`, method: 'POST', headers: json, body: loginBody, connections: 2, duration: 2 });
    await autocannon({ url: `${ready.baselineUrl}/verify`, method: 'POST', headers: json, body: loginBody, connections: 2, duration: 2 });

    // Alternating short runs, so load from elsewhere on the machine hits both sides alike.
    const baselineRuns: autocannon.Result[] = [];
    const loginRuns: autocannon.Result[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      ctx.log(`  round ${round}/${ROUNDS}: baseline (bare argon2.verify behind the limiter), then POST /api/auth/login, ${LOGIN_CONNECTIONS} connections, ${ROUND_S} s each`);
      baselineRuns.push(await run({ url: `${ready.baselineUrl}/verify`, method: 'POST', headers: json, body: loginBody, connections: LOGIN_CONNECTIONS, duration: ROUND_S }));
      loginRuns.push(await run({ url: `${ready.url}/api/auth/login`, method: 'POST', headers: json, body: loginBody, connections: LOGIN_CONNECTIONS, duration: ROUND_S }));
    }
    const baseline = combined(baselineRuns, ROUND_S * ROUNDS);
    const login = combined(loginRuns, ROUND_S * ROUNDS);

    const loggedIn = await fetch(`${ready.url}/api/auth/login`, { method: 'POST', headers: json, body: loginBody });
    const cookie = (loggedIn.headers.get('set-cookie') ?? '').split(';')[0]!;
    const storm = () => run({ url: `${ready.url}/api/auth/login`, method: 'POST', headers: json, body: loginBody, connections: STORM_CONNECTIONS }).then(summary);
    // The target measure: a steady, moderate rate of authenticated GETs, so their latency shows
    // scheduling delay (starvation), not the capacity the storm takes away.
    const paced = { url: `${ready.url}/api/auth/session`, headers: { cookie }, connections: GET_CONNECTIONS, overallRate: GET_RATE };
    ctx.log(`  GET /api/auth/session at ${GET_RATE} req/s alone, ${DURATION_S} s`);
    const quiet = summary(await run(paced));
    ctx.log(`  GET /api/auth/session at ${GET_RATE} req/s during a login storm of ${STORM_CONNECTIONS} connections`);
    const [stormed, stormResult] = await Promise.all([run(paced).then(summary), storm()]);
    // For context: as many GETs as ${GET_CONNECTIONS} connections can push (closed loop).
    const flat = { url: `${ready.url}/api/auth/session`, headers: { cookie }, connections: GET_CONNECTIONS };
    ctx.log(`  GET /api/auth/session flat out, alone and during the storm`);
    const quietFlat = summary(await run(flat));
    const [stormedFlat] = await Promise.all([run(flat).then(summary), storm()]);

    const loadAfter = os.loadavg()[0]!;
    const ratio = login.okPerSecond / baseline.okPerSecond;
    const p99Factor = stormed.p99 / Math.max(quiet.p99, 1);
    const verdict = (ok: boolean) => (ok ? 'met' : '**missed**');
    const lines = [
      '## Login',
      '',
      `Real server in a child process, autocannon in the parent. Throughput: ${ROUNDS} alternating rounds of ${ROUND_S} s each for the baseline and login; p99: ${DURATION_S} s runs. Hashing: ${ready.argon2}; limiter: ${ready.limiter}.`,
      'Login limits enabled but set far above the load, so their counters are paid for.',
      `Machine load average (1 min) ${fmt(loadBefore, 2)} before, ${fmt(loadAfter, 2)} after, on ${os.availableParallelism()} cores: anything above the core count means other work competed for the CPU and the ratios below are pessimistic.`,
      '',
      '| measurement | successful req/s | non-2xx | p50 ms | p99 ms |',
      '|---|---:|---:|---:|---:|',
      `| baseline: bare argon2.verify behind the same limiter (${LOGIN_CONNECTIONS} conns) | ${fmt(baseline.okPerSecond)} | ${baseline.non2xx} | ${baseline.p50} | ${baseline.p99} |`,
      `| POST /api/auth/login (${LOGIN_CONNECTIONS} conns) | ${fmt(login.okPerSecond)} | ${login.non2xx} | ${login.p50} | ${login.p99} |`,
      `| GET /api/auth/session at ${GET_RATE} req/s alone | ${fmt(quiet.okPerSecond)} | ${quiet.non2xx} | ${quiet.p50} | ${quiet.p99} |`,
      `| GET /api/auth/session at ${GET_RATE} req/s during the storm | ${fmt(stormed.okPerSecond)} | ${stormed.non2xx} | ${stormed.p50} | ${stormed.p99} |`,
      `| the login storm itself (${STORM_CONNECTIONS} conns) | ${fmt(stormResult.okPerSecond)} | ${stormResult.non2xx} | ${stormResult.p50} | ${stormResult.p99} |`,
      `| context: GET flat out alone (${GET_CONNECTIONS} conns, closed loop) | ${fmt(quietFlat.okPerSecond)} | ${quietFlat.non2xx} | ${quietFlat.p50} | ${quietFlat.p99} |`,
      `| context: GET flat out during the storm | ${fmt(stormedFlat.okPerSecond)} | ${stormedFlat.non2xx} | ${stormedFlat.p50} | ${stormedFlat.p99} |`,
      '',
      `- Login throughput: ${fmt(ratio * 100)} % of the baseline (target ≥ 90 %): ${verdict(ratio >= 0.9)}.`,
      `- Authenticated GET p99 at ${GET_RATE} req/s under the login storm: ${fmt(p99Factor, 2)}× its unloaded p99 (target ≤ 2×): ${verdict(p99Factor <= 2)}.`,
      `- Context: flat out (closed loop) the GET's p99 under the storm was ${fmt(stormedFlat.p99 / Math.max(quietFlat.p99, 1), 2)}× its unloaded p99 and its throughput ${fmt((stormedFlat.okPerSecond / Math.max(quietFlat.okPerSecond, 1)) * 100)} %; flat out it competes with argon2 for CPU, so this measures shared capacity, not starvation.`,
      `- Non-2xx during the storm are the limiter's fast 503 \`server_busy\` answers when its queue is full (by design).`,
      '',
    ];
    return lines.join('\n');
  } finally {
    child.send('stop');
    await new Promise((resolve) => child.once('exit', resolve));
  }
}
