// A real server on port 0 over the shared test database, with a real pg pool and real argon2.
// Log lines are captured in memory so tests can assert what was (not) logged.
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import supertest from 'supertest';
import { inject } from 'vitest';
import type { AppDeps } from '../../src/app.ts';
import { loadConfig, type Config } from '../../src/config.ts';
import { PasswordHasher } from '../../src/features/auth/password-hashing.ts';
import { connectDatabase, type Database } from '../../src/platform/database.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { startServer, type RunningServer } from '../../src/server.ts';

export interface TestApp {
  url: string;
  server: RunningServer;
  db: Database;
  config: Config;
  /** Every log line this app wrote, as raw JSON text. */
  logs: string[];
  /** A supertest client against the running server (no cookies kept). */
  http: ReturnType<typeof supertest>;
  stop(): Promise<void>;
}

export const TEST_SESSION_SECRET = 'test-session-secret-that-is-long-enough-0123456789';

// Every test client is 127.0.0.1 and the counters live in the shared database, so per-IP limits
// would trip across test files. Tests of a per-IP limit set their own rule and send a unique
// X-Forwarded-For (with trustProxyHops: 1).
const TEST_ENV = {
  RATE_LIMIT_LOGIN_IP: '0/60',
  RATE_LIMIT_SIGNUP_IP: '0/60',
  RATE_LIMIT_RESET_IP: '0/60',
  RATE_LIMIT_VERIFY_IP: '0/60',
  RATE_LIMIT_ENROLL_IP: '0/60',
  // Test apps share one outbox: a sender in every app would take other files' emails. Tests
  // read the outbox rows; the email tests start their own sender.
  EMAIL_SENDER_ENABLED: 'false',
  // Likewise webhook deliveries: a worker in every app would attempt other files' deliveries
  // (under its own SSRF setting). The webhook tests start apps with delivery enabled.
  WEBHOOK_DELIVERY_ENABLED: 'false',
  // And presence: a worker flipping agents.online / dongles.online in the shared database would
  // change rows under other files' "nothing changed" snapshots. presence.test.ts runs it directly.
  PRESENCE_WORKER_ENABLED: 'false',
  // A random dongle-token key per test process, so no test writes a development key ring into
  // the developer's DATA_DIR.
  DONGLE_TOKEN_KEYS: `1:${randomBytes(32).toString('base64')}`,
};

export function testConfig(overrides: Partial<Config> = {}): Config {
  const base = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'info', DATABASE_URL: inject('databaseUrl'), PUBLIC_URL: 'http://fleet.test', ...TEST_ENV });
  return { ...base, ...overrides };
}

export async function startTestApp(options: { config?: Partial<Config>; deps?: Partial<AppDeps>; databaseUrl?: string } = {}): Promise<TestApp> {
  const config = testConfig(options.config);
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logs.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  const logger = createLogger({ level: config.logLevel, destination: sink });
  const db = connectDatabase({ url: options.databaseUrl ?? inject('databaseUrl'), poolMax: 5, logger });
  const server = await startServer(
    { config, logger, db, sessionSecret: TEST_SESSION_SECRET, hasher: sharedHasher, ...options.deps },
    { port: 0, host: '127.0.0.1' },
  );
  return {
    url: server.url,
    server,
    db,
    config,
    logs,
    http: supertest(server.url),
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}

/** Real argon2id at the production parameters, shared so its limiter spans the file. */
export const sharedHasher = new PasswordHasher();
