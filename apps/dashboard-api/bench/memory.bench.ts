// Resident memory of the production process (`node dist/main.js`, compiled, no TypeScript loader):
// idle after a first start that applied every migration, idle when none were pending, and with
// 1,000 agents long-polling at once. RSS is read from /proc (Linux). Target: idle ≤ 160 MB.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { freePort } from '../src/tooling/embedded.ts';
import { repoRoot } from '../src/platform/paths.ts';
import type { BenchContext } from './run.ts';
import { seedFleet } from './commands-bench-kit.ts';

const appDir = path.join(repoRoot, 'apps/dashboard-api');
const AGENTS = 1000;
const SETTLE_MS = 5000;

const rssMb = (pid: number) => Math.round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024);

async function startService(databaseUrl: string) {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'fleet-bench-mem-'));
  chmodSync(dataDir, 0o755);
  const port = await freePort();
  const child = spawn(process.execPath, ['dist/main.js'], {
    cwd: appDir,
    env: { PATH: process.env.PATH, NODE_ENV: 'development', DATABASE_URL: databaseUrl, DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 600; i++) {
    if ((await fetch(`${url}/readyz`).then((r) => r.status, () => 0)) === 200) break;
    await sleep(250);
  }
  const stop = async () => {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    rmSync(dataDir, { recursive: true, force: true });
  };
  return { pid: child.pid!, url, port, stop };
}

export default async function memory(ctx: BenchContext): Promise<string> {
  // What production runs: build once, as `npm start` (prestart) and the Dockerfile do.
  const build = spawnSync('npm', ['run', 'build'], { cwd: appDir, stdio: 'inherit' });
  if (build.status !== 0) throw new Error('npm run build failed');

  const admin = new pg.Client({ connectionString: ctx.adminDatabaseUrl });
  await admin.connect();
  const fresh = `fleet_bench_mem_${Date.now()}`;
  await admin.query(`CREATE DATABASE ${fresh}`);
  const freshUrl = ctx.databaseUrl.replace(/\/[^/]+$/, `/${fresh}`);

  const rows: string[] = [];
  try {
    const first = await startService(freshUrl);
    await sleep(SETTLE_MS);
    rows.push(`| idle after a first start that applied every migration | ${rssMb(first.pid)} |`);
    await first.stop();

    const service = await startService(ctx.databaseUrl);
    await sleep(SETTLE_MS);
    rows.push(`| idle, migrated database (nothing pending) | ${rssMb(service.pid)} |`);

    const pool = new pg.Pool({ connectionString: ctx.databaseUrl, max: 4 });
    const agents = await seedFleet(pool, { users: AGENTS, donglesPerUser: 1, historyPerDongle: 0, label: 'mem' });
    await pool.end();
    const keepAlive = new http.Agent({ keepAlive: true, maxSockets: Infinity });
    let answered = 0;
    const polls = agents.map(
      (agent) =>
        new Promise<void>((resolve) => {
          const req = http.get(`${service.url}/api/agent/commands?wait=30`, { agent: keepAlive, headers: { authorization: `Bearer ${agent.token}` } }, (res) => {
            res.resume();
            res.on('end', () => {
              answered++;
              resolve();
            });
          });
          req.on('error', () => resolve());
        }),
    );
    await sleep(SETTLE_MS * 2);
    const rss = rssMb(service.pid);
    // Only polls still waiting count: one answered early (an error, a rate limit) holds nothing.
    rows.push(`| ${AGENTS} agents long-polling (\`wait=30\`, one connection each; ${AGENTS - answered} still waiting when measured) | ${rss} |`);
    await service.stop();
    await Promise.all(polls);
    keepAlive.destroy();
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${fresh} WITH (FORCE)`);
    await admin.end();
  }

  return [
    '## Memory: resident set of the production process',
    '',
    `\`node dist/main.js\` (compiled, no TypeScript loader) on ${process.version}, DATABASE_URL set, logging at warn; RSS from /proc ${SETTLE_MS / 1000} s after /readyz answered 200. Target: idle ≤ 160 MB.`,
    '',
    '| state | RSS MB |',
    '|---|---:|',
    ...rows,
    '',
  ].join('\n');
}
