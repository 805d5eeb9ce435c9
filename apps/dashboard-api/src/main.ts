// The server entry: configuration → database (embedded when DATABASE_URL is unset) →
// migrations → first admin → listen. SIGTERM/SIGINT drain and stop in order.
import { loadConfig, ConfigError } from './config.ts';
import { loadOrCreateDevSecret } from './tooling/dev-secrets.ts';
import { applyMigrationsInChildProcess } from './tooling/migrate-child.ts';
import { migrationStatus } from './tooling/migrator.ts';
import { provisionDatabase } from './tooling/provision.ts';
import { PasswordHasher } from './features/auth/password-hashing.ts';
import { announceOneTimePassword, ensureAdmin } from './features/users/admin-bootstrap.ts';
import { connectDatabase } from './platform/database.ts';
import { createLogger } from './platform/logger.ts';
import { startServer } from './server.ts';

async function main() {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
  const logger = createLogger({ level: config.logLevel });
  const database = await provisionDatabase(config, logger);

  if (config.migrateOnStart) {
    const status = await migrationStatus(database.url);
    if (status.pending.length > 0 || status.failed.length > 0) {
      // In a child process: the schema engine's memory goes away with it (issue 11).
      const applied = await applyMigrationsInChildProcess(database.url, (line) => logger.info(line));
      logger.info({ applied }, 'migrations applied');
    }
  }

  const db = connectDatabase({ url: database.url, poolMax: config.databasePoolMax, logger });
  const hasher = PasswordHasher.fromConfig(config);
  const sessionSecret = config.sessionSecret ?? loadOrCreateDevSecret(config.dataDir, 'session');
  const admin = await ensureAdmin(db, hasher, config.admin);
  if (admin && admin.action !== 'unchanged') logger.info({ email: admin.email, action: admin.action }, 'administrator account ready');
  // Shown once and never through the logger (see announceOneTimePassword for production).
  if (admin) announceOneTimePassword(admin, { production: config.isProduction, dataDir: config.dataDir, write: (text) => process.stdout.write(text) });

  const running = await startServer({ config, logger, db, hasher, sessionSecret }, { port: config.port, host: config.host });
  logger.info({ url: running.url, embeddedDatabase: database.embedded }, 'dashboard-api listening');

  let exiting = false;
  const shutdown = async (signal: string) => {
    if (exiting) return;
    exiting = true;
    logger.info({ signal }, 'shutting down');
    await running.stop();
    await db.close();
    await database.stop();
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(`dashboard-api failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
