// Where the database comes from: DATABASE_URL when set, otherwise an embedded PostgreSQL kept
// under DATA_DIR/postgres (persistent between starts).
import path from 'node:path';
import type { Config } from '../config.ts';
import type { Logger } from '../platform/logger.ts';
import { startEmbeddedPostgres } from './embedded.ts';

export interface ProvisionedDatabase {
  url: string;
  embedded: boolean;
  stop(): Promise<void>;
}

export async function provisionDatabase(config: Pick<Config, 'databaseUrl' | 'dataDir'>, logger: Logger): Promise<ProvisionedDatabase> {
  if (config.databaseUrl) return { url: config.databaseUrl, embedded: false, stop: async () => undefined };
  const dataDir = path.join(config.dataDir, 'postgres');
  logger.info({ dataDir }, 'DATABASE_URL is not set: starting the embedded PostgreSQL');
  const db = await startEmbeddedPostgres({
    dataDir,
    persistent: true,
    onLog: (line) => logger.debug({ postgres: line }),
    // Root in a 0700 directory: the server's OS user cannot reach the project (embedded-staging.ts).
    onStaged: (where) =>
      logger.info(
        { stagedBinaries: where.binaries, stagedCluster: where.cluster, dataDir },
        "the embedded PostgreSQL runs as the OS user 'postgres', which cannot reach this directory: its files are staged outside it",
      ),
  });
  return { url: db.url, embedded: true, stop: () => db.stop() };
}
