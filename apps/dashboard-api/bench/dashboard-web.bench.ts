// The operator dashboard (apps/dashboard-web), measured as a user meets it:
//  1. the production bundle: gzipped JavaScript the first page loads (the entry script and any
//     modulepreload it names; every other page is a lazy chunk). Target ≤ 200 kB.
//  2. time from `npm start` (the real root script: prestart's build check, embedded PostgreSQL,
//     migrations, first admin, listen) to a rendered fleet page in Chromium, with the API's own
//     readiness (/readyz answering 200) in the same run as the baseline: the difference is what
//     the dashboard adds. A first start (fresh DATA_DIR: initdb, migrations) and restarts.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { gzipSync } from 'node:zlib';
import { chromium, type Browser } from 'playwright-core';
import { freePort } from '../src/tooling/embedded.ts';
import { DEFAULT_ADMIN_EMAIL } from '../src/features/users/admin-bootstrap.ts';
import { repoRoot } from '../src/platform/paths.ts';
import { chromiumPath } from '../test/browser/chromium.ts';
import type { BenchContext } from './run.ts';

const dist = path.join(repoRoot, 'apps/dashboard-web/dist');
const RESTARTS = 3;
const kB = (bytes: number) => `${(bytes / 1000).toFixed(1)} kB`;

function bundleSizes() {
  const html = readFileSync(path.join(dist, 'index.html'), 'utf8');
  const first = [...html.matchAll(/<script[^>]+src="([^"]+\.js)"|<link[^>]+rel="modulepreload"[^>]+href="([^"]+\.js)"/g)].map((m) => m[1] ?? m[2]!);
  const size = (file: string) => {
    const bytes = readFileSync(path.join(dist, file));
    return { raw: bytes.length, gzip: gzipSync(bytes).length };
  };
  const firstPage = first.map(size).reduce((a, b) => ({ raw: a.raw + b.raw, gzip: a.gzip + b.gzip }), { raw: 0, gzip: 0 });
  const all = spawnSync('ls', [path.join(dist, 'assets')], { encoding: 'utf8' }).stdout.split('\n').filter((f) => f.endsWith('.js'));
  const everything = all.map((f) => size(`assets/${f}`)).reduce((a, b) => ({ raw: a.raw + b.raw, gzip: a.gzip + b.gzip }), { raw: 0, gzip: 0 });
  return { files: first, firstPage, everything, chunks: all.length };
}

interface StartTiming {
  readyMs: number;
  /** The API login (argon2id at the production cost) between readiness and the page load. */
  loginMs: number;
  /** page.goto('/') until the fleet page shows its content. */
  pageMs: number;
  fleetMs: number;
}

async function startToFleet(browser: Browser, dataDir: string, password: string | undefined): Promise<{ timing: StartTiming; password: string }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !['DATABASE_URL', 'TEST_DATABASE_URL', 'NODE_ENV', 'ADMIN_PASSWORD', 'ADMIN_EMAIL'].includes(k)));
  const started = performance.now();
  const child = spawn('npm', ['start'], { cwd: repoRoot, env: { ...env, DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  child.stdout.on('data', (c) => (output += String(c)));
  child.stderr.on('data', (c) => (output += String(c)));
  try {
    let readyMs = 0;
    while (!readyMs) {
      if (child.exitCode !== null) throw new Error(`npm start exited:\n${output}`);
      if ((await fetch(`${url}/readyz`).then((r) => r.status, () => 0)) === 200) readyMs = performance.now() - started;
      else await sleep(50);
    }
    const secret = password ?? /One-time password: (\S+)/.exec(output)?.[1];
    if (!secret) throw new Error(`no one-time password printed:\n${output}`);
    const context = await browser.newContext({ baseURL: url, viewport: { width: 1280, height: 800 } });
    const beforeLogin = performance.now();
    const login = await context.request.post('/api/auth/login', { data: { email: DEFAULT_ADMIN_EMAIL, password: secret } });
    if (!login.ok()) throw new Error(`login failed: ${login.status()} ${await login.text()}`);
    const page = await context.newPage();
    const beforePage = performance.now();
    const loginMs = beforePage - beforeLogin;
    await page.goto('/');
    await page.getByRole('heading', { name: 'Fleet' }).waitFor();
    await page.getByText(/You have no dongles yet|dongles shown/).first().waitFor();
    const fleetMs = performance.now() - started;
    const pageMs = performance.now() - beforePage;
    await context.close();
    return { timing: { readyMs, loginMs, pageMs, fleetMs }, password: secret };
  } finally {
    process.kill(-child.pid!, 'SIGTERM');
    await new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once('exit', resolve)));
  }
}

export default async function dashboardWeb(ctx: BenchContext): Promise<string> {
  if (!chromiumPath) return '## Dashboard (web)\n\nSkipped: no Chromium on this machine.\n';
  spawnSync(process.execPath, [path.join(repoRoot, 'scripts/build-web.mjs'), '--force'], { stdio: 'inherit', env: { ...process.env, NODE_ENV: 'production' } });
  const sizes = bundleSizes();
  ctx.log(`first page JS: ${kB(sizes.firstPage.gzip)} gzipped (${sizes.files.join(', ')})`);

  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'fleet-web-bench-'));
  chmodSync(dataDir, 0o755);
  const browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
  const runs: Array<{ label: string } & StartTiming> = [];
  try {
    const first = await startToFleet(browser, dataDir, undefined);
    runs.push({ label: 'first start (initdb, migrations, admin)', ...first.timing });
    ctx.log(`first start: ready ${first.timing.readyMs.toFixed(0)} ms, fleet ${first.timing.fleetMs.toFixed(0)} ms`);
    for (let i = 0; i < RESTARTS; i += 1) {
      const again = await startToFleet(browser, dataDir, first.password);
      runs.push({ label: `restart ${i + 1}`, ...again.timing });
      ctx.log(`restart ${i + 1}: ready ${again.timing.readyMs.toFixed(0)} ms, fleet ${again.timing.fleetMs.toFixed(0)} ms`);
    }
  } finally {
    await browser.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  return [
    '## Dashboard (web): bundle size and `npm start` to a rendered fleet page',
    '',
    `Production build of apps/dashboard-web (${statSync(path.join(dist, 'index.html')).mtime.toISOString()}), gzip level 6 (zlib default).`,
    '',
    '| What | Raw | Gzipped | Target |',
    '|---|---|---|---|',
    `| JS of the first page (${sizes.files.map((f) => `\`${path.basename(f)}\``).join(', ')}) | ${kB(sizes.firstPage.raw)} | **${kB(sizes.firstPage.gzip)}** | ≤ 200 kB ${sizes.firstPage.gzip <= 200_000 ? '(met)' : '(MISSED)'} |`,
    `| All JS, every lazy page included (${sizes.chunks} files) | ${kB(sizes.everything.raw)} | ${kB(sizes.everything.gzip)} | — |`,
    '',
    'Time from spawning `npm start` at the repository root (no DATABASE_URL: embedded PostgreSQL in a fresh DATA_DIR) to the fleet page rendered in Chromium for a logged-in admin (session made through the API, then `/` loaded). Baseline in the same run: the API alone, `/readyz` answering 200.',
    '',
    '| Run | API ready (baseline) | Fleet page rendered | of which: login (argon2id) | of which: page load to rendered fleet |',
    '|---|---|---|---|---|',
    ...runs.map((r) => `| ${r.label} | ${s(r.readyMs)} | **${s(r.fleetMs)}** | ${s(r.loginMs)} | ${s(r.pageMs)} |`),
    '',
    'After readiness come the login (argon2id at the production cost, the same for any client) and the page load (HTML, one script, one stylesheet, then the session, dongle, agent and group calls). `prestart` finds dist/ up to date and adds only its check (a fresh clone builds during `npm install`).',
    '',
  ].join('\n');
}
