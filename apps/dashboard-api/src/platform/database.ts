// One pg pool shared by Prisma (through @prisma/adapter-pg) and by the few components that
// need raw pg (the session store, LISTEN/NOTIFY). The pool has an error listener and explicit
// timeouts so a lost database gives fast failures, and reconnects by itself when it returns.
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { Prisma, PrismaClient } from '../generated/prisma/client.ts';
import type { Logger } from './logger.ts';

export { Prisma };
export type Tx = Prisma.TransactionClient;

export interface Database {
  prisma: PrismaClient;
  pool: pg.Pool;
  url: string;
  close(): Promise<void>;
}

export function connectDatabase(options: { url: string; poolMax?: number; logger: Logger }): Database {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolMax ?? 10,
    connectionTimeoutMillis: 3_000,
    idleTimeoutMillis: 30_000,
    // Never let a stuck query hold a connection forever.
    statement_timeout: 30_000,
    application_name: 'dashboard-api',
  });
  // An idle client losing its connection emits here; without a listener the process would crash.
  pool.on('error', (error) => options.logger.warn({ err: error.message }, 'database pool client error'));
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  let closed = false;
  return {
    prisma,
    pool,
    url: options.url,
    async close() {
      if (closed) return;
      closed = true;
      await prisma.$disconnect();
      await pool.end();
    },
  };
}

/** Error codes that mean "the database is not reachable right now" rather than a bad query. */
const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', '57P01', '57P02', '57P03', '08000', '08001', '08003', '08006']);

export function isDatabaseUnavailable(error: unknown): boolean {
  for (let current: unknown = error, depth = 0; current && depth < 5; depth++) {
    const candidate = current as { code?: unknown; message?: unknown; cause?: unknown; name?: unknown };
    if (typeof candidate.code === 'string' && UNAVAILABLE_CODES.has(candidate.code)) return true;
    if (typeof candidate.message === 'string' && /timeout exceeded when trying to connect|Connection terminated|connect ECONNREFUSED|DatabaseNotReachable|Can't reach database/i.test(candidate.message)) return true;
    if (candidate.name === 'PrismaClientInitializationError') return true;
    current = candidate.cause;
  }
  return false;
}
