// `npm start` exactly as a user or a process supervisor runs it: npm builds, then execs node on
// the compiled server. A SIGTERM sent to npm's pid must reach the server (issue 9 item 9: with a
// shell in between, npm exited and the orphaned server kept answering /readyz 200).
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../src/tooling/embedded.ts';
import { repoRoot } from '../../src/platform/paths.ts';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const INHERITED_OUT = ['DATABASE_URL', 'TEST_DATABASE_URL', 'ADMIN_EMAIL', 'ADMIN_PASSWORD', 'PORT', 'DATA_DIR', 'HOST', 'NODE_ENV', 'LOG_LEVEL', 'MIGRATE_ON_START'];

const readyz = (url: string) => fetch(`${url}/readyz`).then((res) => res.status, () => 0);

describe('npm start', () => {
  it('passes SIGTERM to the server: it drains, stops and the port closes', { timeout: 300_000 }, async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'fleet-npm-start-'));
    chmodSync(dataDir, 0o755); // run as root, the embedded server's OS user must reach it
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !INHERITED_OUT.includes(name) && !name.startsWith('npm_')));
    const npm = spawn('npm', ['start'], { cwd: repoRoot, env: { ...env, DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    npm.stdout.on('data', (chunk) => (output += String(chunk)));
    npm.stderr.on('data', (chunk) => (output += String(chunk)));
    const npmExited = new Promise<number | null>((resolve) => npm.once('exit', (code) => resolve(code)));
    cleanups.push(() => npm.kill('SIGKILL'));

    const deadline = Date.now() + 240_000;
    while ((await readyz(url)) !== 200) {
      expect(npm.exitCode, output).toBeNull();
      expect(Date.now() < deadline, `not ready:\n${output}`).toBe(true);
      await sleep(250);
    }
    expect(output).toMatch(/dashboard-api listening/);

    npm.kill('SIGTERM'); // npm's own pid, as `docker stop` or systemd would
    await npmExited;
    // The server itself got the signal: its graceful shutdown ran, and nothing answers any more.
    expect(output, 'the server did not shut down').toContain('"msg":"stopped"');
    expect(await readyz(url)).toBe(0);
  });
});
