// One pg pool shared by Prisma (through @prisma/adapter-pg) and by raw pg: the hot statements of
// the `<feature>.sql.ts` files, the session store, the workers, LISTEN/NOTIFY. The data-access
// rule (which to use when) is below and in doc/architecture.md. The pool has an error listener
// and explicit timeouts so a lost database gives fast failures, and reconnects by itself.
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { Prisma, PrismaClient } from '../generated/prisma/client.ts';
import type { Logger } from './logger.ts';

export { Prisma };
/** A Prisma interactive-transaction client: the model API (`tx.dongle.update`) and raw SQL. */
export type Tx = Prisma.TransactionClient;

/**
 * The data-access rule (doc/architecture.md, "Data access"): every function that reads or writes
 * inside someone else's transaction takes a `Db` and runs its raw SQL through `sql()`, so it
 * works on the caller's connection and transaction whether that is a Prisma interactive
 * transaction (`tx`, or `prisma` for one auto-committed statement) or a pg client inside
 * `inPgTransaction` (the hot paths the benchmarks justify). Never two styles in one transaction.
 * The two drivers map int8 and numeric differently (Prisma: bigint / Decimal; pg: string), so
 * shared statements select those cast (`::text`, `::int`).
 */
export type Db = Pick<Tx, '$queryRawUnsafe'> | pg.ClientBase;

const isPgClient = (db: Db): db is pg.ClientBase => typeof (db as pg.ClientBase).query === 'function';

/** Runs one parameterized statement on `db` (in its transaction, if any); returns its rows. */
export async function sql<Row>(db: Db, text: string, params: readonly unknown[] = []): Promise<Row[]> {
  if (isPgClient(db)) return (await db.query(text, params as unknown[])).rows as Row[];
  return db.$queryRawUnsafe<Row[]>(text, ...params);
}

/**
 * One SQL statement with the types of its parameters and of its rows: what a `<feature>.sql.ts`
 * file exports, so the service and the bench run the same text and the call site is typed
 * without a cast. `name` makes pg prepare it once per connection (fixed-text hot statements);
 * on a Prisma `tx` it runs through `$queryRawUnsafe` like any `sql()` call.
 */
export interface Statement<Params extends readonly unknown[], Row> {
  readonly text: string;
  readonly name?: string;
  /** Carries the types only; never set. */
  readonly types?: { params: Params; row: Row };
}

export function statement<Params extends readonly unknown[], Row>(text: string, name?: string): Statement<Params, Row> {
  return name === undefined ? { text } : { text, name };
}

/** Runs `stmt` on a transaction, a connection, or the pool (one auto-committed statement). */
export async function run<Params extends readonly unknown[], Row>(db: Db | pg.Pool, stmt: Statement<Params, Row>, params: Params): Promise<Row[]> {
  if (typeof (db as pg.Pool).query === 'function') {
    const values = params as unknown as unknown[];
    const { rows } = await (db as pg.Pool).query(stmt.name === undefined ? { text: stmt.text, values } : { name: stmt.name, text: stmt.text, values });
    return rows as Row[];
  }
  return sql<Row>(db as Db, stmt.text, params);
}

/**
 * A model's row as raw SQL returns it (`SELECT *`, `RETURNING *`): Prisma's generated model type
 * with its field names in the table's snake_case, so a raw row never restates a table's shape.
 */
export type TableRow<Model> = { [K in keyof Model & string as SnakeCase<K>]: Model[K] };
type SnakeCase<S extends string> = S extends `${infer Head}${infer Tail}`
  ? `${Head extends Lowercase<Head> ? Head : `_${Lowercase<Head>}`}${SnakeCase<Tail>}`
  : S;

/**
 * One raw pg transaction, for the few hot paths where Prisma's interactive transaction costs
 * more CPU than the statements themselves (measured: ~2 ms against 0.3 ms, doc/benchmarks.md).
 * A connection lost mid-transaction surfaces as the failed query (→ 503): every pool client has
 * an 'error' listener (connectDatabase), so it never becomes an unhandled event.
 */
export async function inPgTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch((rollbackError: Error) => (broken = rollbackError));
    throw error;
  } finally {
    // A client whose ROLLBACK failed is broken: release(error) discards it instead of pooling it.
    client.release(broken);
  }
}

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
  // The pool's own listener is removed while a client is checked out (pool.connect(): Prisma's
  // transactions, inPgTransaction, the sweeper, the audit export cursor). A connection lost
  // then (pg_terminate_backend, a restart) emits 'error' on the client with nobody listening,
  // and node-postgres's unhandled 'error' ends the process. So every client gets a listener of
  // its own for its whole life; the query in flight still fails (→ 503) and the pool discards
  // the broken client on release.
  pool.on('connect', (client) => {
    client.on('error', (error) => options.logger.warn({ err: error.message }, 'database connection lost while in use'));
  });
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

/**
 * Error codes that mean "the database is not reachable right now" rather than a bad query:
 * socket errors, PostgreSQL's admin shutdown / crash / cannot-connect-now (57P01-03), too many
 * connections (53300), a statement cancelled by statement_timeout or a lock not available
 * (57014, 55P03: contention, worth a retry), connection exceptions (08xxx), and Prisma's connection and transaction
 * start errors (P1001 can't reach, P1002/P1008 timeouts, P1017 server closed the connection,
 * P2024 pool timeout, P2028 transaction API error, e.g. "Unable to start a transaction in the
 * given time").
 */
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND',
  '57P01', '57P02', '57P03', '53300', '57014', '55P03', '08000', '08001', '08003', '08004', '08006',
  'P1001', 'P1002', 'P1008', 'P1017', 'P2024', 'P2028',
]);
/** Driver adapter error kinds (@prisma/adapter-pg) with the same meaning. */
const UNAVAILABLE_KINDS = new Set(['ConnectionClosed', 'DatabaseNotReachable', 'SocketTimeout', 'TooManyConnections', 'TlsConnectionError']);
const UNAVAILABLE_MESSAGE =
  /timeout exceeded when trying to connect|Connection terminated|Connection ended unexpectedly|not queryable|connect ECONNREFUSED|DatabaseNotReachable|Can't reach database|Server has closed the connection|Unable to start a transaction in the given time|terminating connection due to administrator command|the database system is (starting up|shutting down|in recovery mode)/i;

export function isDatabaseUnavailable(error: unknown): boolean {
  // Breadth-first over cause, meta.driverAdapterError and originalCode: Prisma wraps the pg error.
  const pending: unknown[] = [error];
  for (let seen = 0; pending.length > 0 && seen < 12; seen++) {
    const candidate = pending.shift() as { code?: unknown; originalCode?: unknown; kind?: unknown; message?: unknown; cause?: unknown; name?: unknown; meta?: { driverAdapterError?: unknown } } | null;
    if (!candidate || typeof candidate !== 'object') continue;
    for (const code of [candidate.code, candidate.originalCode]) if (typeof code === 'string' && UNAVAILABLE_CODES.has(code)) return true;
    if (typeof candidate.kind === 'string' && UNAVAILABLE_KINDS.has(candidate.kind)) return true;
    if (typeof candidate.message === 'string' && UNAVAILABLE_MESSAGE.test(candidate.message)) return true;
    if (candidate.name === 'PrismaClientInitializationError') return true;
    pending.push(candidate.cause, candidate.meta?.driverAdapterError);
  }
  return false;
}
