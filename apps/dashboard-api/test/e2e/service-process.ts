// The real server entry (src/main.ts) as a child process, the way `npm start` runs it.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { repoRoot } from '../../src/platform/paths.ts';

const appDir = path.join(repoRoot, 'apps/dashboard-api');

/** Variables a developer's shell or the test runner may carry that would change what we test. */
const INHERITED_OUT = ['DATABASE_URL', 'TEST_DATABASE_URL', 'ADMIN_EMAIL', 'ADMIN_PASSWORD', 'PORT', 'DATA_DIR', 'HOST', 'NODE_ENV', 'LOG_LEVEL', 'MIGRATE_ON_START'];

export class ServiceProcess {
  readonly child: ChildProcess;
  /** stdout and stderr as they arrived. */
  output = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(env: Record<string, string>) {
    const base = Object.fromEntries(Object.entries(process.env).filter(([name]) => !INHERITED_OUT.includes(name)));
    this.child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: appDir,
      env: { ...base, NODE_ENV: 'development', HOST: '127.0.0.1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.on('data', (chunk) => (this.output += String(chunk)));
    this.child.stderr!.on('data', (chunk) => (this.output += String(chunk)));
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Polls `url` until it answers 200; fails at once if the process exits first. */
  async waitForReady(url: string, timeoutMs = 120_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.running) throw new Error(`the service exited before it was ready:\n${this.output}`);
      const status = await fetch(url).then((res) => res.status, () => 0);
      if (status === 200) return;
      await sleep(250);
    }
    throw new Error(`not ready after ${timeoutMs} ms:\n${this.output}`);
  }

  /** SIGTERM, then the exit code. */
  async terminate(): Promise<number | null> {
    if (this.running) this.child.kill('SIGTERM');
    return (await this.exited).code;
  }

  /** For cleanup after a failed test: make sure nothing is left running. */
  kill(): void {
    if (this.running) this.child.kill('SIGKILL');
  }
}
