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
  const db = await startEmbeddedPostgres({ dataDir, persistent: true, onLog: (line) => logger.debug({ postgres: line }) });
  return { url: db.url, embedded: true, stop: () => db.stop() };
}
