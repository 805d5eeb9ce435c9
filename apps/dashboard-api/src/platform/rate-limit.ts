// Fixed-window rate limits held in PostgreSQL (table rate_limit_counters), so a limit holds
// across every API instance sharing the database. Each hit is one atomic statement:
// INSERT … ON CONFLICT (key) DO UPDATE, which starts a new window when the old one is over.
//
//   // as middleware (answers 429 rate_limited with Retry-After):
//   rateLimit(db, { name: 'signup-ip', ...config.rateLimits.signupIp, key: clientIp })
//
//   // programmatically (e.g. failed logins per account):
//   const perAccount = createRateLimit(db, { name: 'login-account', ...config.rateLimits.loginAccount });
//   (await perAccount.peek(email)).allowed; await perAccount.hit(email);
//
// Keys are stored as `<name>:<sha256 of the discriminator>`: no email or IP sits in the table,
// and every key has the same bounded length.
import type { Request, RequestHandler, Response } from 'express';
import type { Database } from './database.ts';
import { tooManyRequests } from './errors.ts';
import { periodicWorker, type BackgroundWorker } from './lifecycle.ts';
import type { Logger } from './logger.ts';
import { fleetCounters } from './metrics.ts';
import { sha256Hex } from './secrets.ts';

export interface RateLimitRule {
  /** Hits allowed per window; 0 disables the rule. */
  limit: number;
  windowSeconds: number;
}

export interface RateLimitResult {
  allowed: boolean;
  hits: number;
  limit: number;
  /** Seconds until the current window ends (at least 1). */
  retryAfterSeconds: number;
}

export interface RateLimit {
  readonly name: string;
  readonly rule: RateLimitRule;
  /** Counts one hit for `discriminator` and says whether it is within the limit. */
  hit(discriminator: string): Promise<RateLimitResult>;
  /** The current state without counting a hit. */
  peek(discriminator: string): Promise<RateLimitResult>;
  /** Gives back one hit (an attempt counted up front that turned out not to count). */
  refund(discriminator: string): Promise<void>;
  /** Forgets the counter (e.g. an admin unlocking an account). */
  reset(discriminator: string): Promise<void>;
}

type Pool = Pick<Database, 'pool'>;

/** Marks a rate-limit middleware, so the API router documents the route's 429 (api-router.ts). */
export const RATE_LIMIT_RULE = Symbol('rateLimitRule');

export const rateLimitKey = (name: string, discriminator: string) => `${name}:${sha256Hex(discriminator)}`;

const HIT_SQL = `
  INSERT INTO rate_limit_counters AS c (key, hits, window_start, expires_at)
  VALUES ($1, 1, now(), now() + make_interval(secs => $2))
  ON CONFLICT (key) DO UPDATE SET
    hits         = CASE WHEN c.expires_at <= now() THEN 1 ELSE c.hits + 1 END,
    window_start = CASE WHEN c.expires_at <= now() THEN now() ELSE c.window_start END,
    expires_at   = CASE WHEN c.expires_at <= now() THEN now() + make_interval(secs => $2) ELSE c.expires_at END
  RETURNING hits, window_start, CEIL(EXTRACT(EPOCH FROM (expires_at - now())))::int AS retry_after`;

const PEEK_SQL = `
  SELECT hits, CEIL(EXTRACT(EPOCH FROM (expires_at - now())))::int AS retry_after
  FROM rate_limit_counters WHERE key = $1 AND expires_at > now()`;

export function createRateLimit(db: Pool, options: { name: string } & RateLimitRule): RateLimit {
  const rule = { limit: options.limit, windowSeconds: options.windowSeconds };
  const result = (hits: number, retryAfter: number, counting: boolean): RateLimitResult => {
    // A hit is allowed while the count including it is within the limit; a peek asks whether
    // one more would be.
    const allowed = rule.limit === 0 || (counting ? hits <= rule.limit : hits < rule.limit);
    if (counting && !allowed) fleetCounters.rateLimitRejections.inc({ rule: options.name });
    return { allowed, hits, limit: rule.limit, retryAfterSeconds: Math.max(1, retryAfter) };
  };
  return {
    name: options.name,
    rule,
    async hit(discriminator) {
      if (rule.limit === 0) return result(0, 1, true);
      const { rows } = await db.pool.query<{ hits: number; retry_after: number }>(HIT_SQL, [rateLimitKey(options.name, discriminator), rule.windowSeconds]);
      return result(rows[0]!.hits, rows[0]!.retry_after, true);
    },
    async peek(discriminator) {
      if (rule.limit === 0) return result(0, 1, false);
      const { rows } = await db.pool.query<{ hits: number; retry_after: number }>(PEEK_SQL, [rateLimitKey(options.name, discriminator)]);
      return rows[0] ? result(rows[0].hits, rows[0].retry_after, false) : result(0, rule.windowSeconds, false);
    },
    async refund(discriminator) {
      if (rule.limit === 0) return;
      await db.pool.query('UPDATE rate_limit_counters SET hits = greatest(hits - 1, 0) WHERE key = $1 AND expires_at > now()', [rateLimitKey(options.name, discriminator)]);
    },
    async reset(discriminator) {
      await db.pool.query('DELETE FROM rate_limit_counters WHERE key = $1', [rateLimitKey(options.name, discriminator)]);
    },
  };
}

/** Throws 429 rate_limited with Retry-After when any of the results is over its limit. */
export function assertWithinLimits(results: RateLimitResult[]): void {
  const refused = results.filter((r) => !r.allowed);
  if (refused.length > 0) throw tooManyRequests(Math.max(...refused.map((r) => r.retryAfterSeconds)));
}

/** The client address as Express derives it through the configured `trust proxy` hop count. */
export const clientIp = (req: Request) => req.ip ?? req.socket.remoteAddress ?? 'unknown';

export interface RateLimitOptions extends RateLimitRule {
  name: string;
  /** What to count by; several keys count separately and each must be within the limit. */
  key: (req: Request, res: Response) => string | string[] | undefined;
}

/** Middleware: counts one hit per key and answers 429 `rate_limited` with Retry-After when over. */
export function rateLimit(db: Pool, options: RateLimitOptions): RequestHandler {
  const limit = createRateLimit(db, options);
  const middleware: RequestHandler = async (req, res, next) => {
    const keys = [options.key(req, res) ?? []].flat();
    assertWithinLimits(await Promise.all(keys.map((key) => limit.hit(key))));
    next();
  };
  return Object.assign(middleware, { [RATE_LIMIT_RULE]: options.name });
}

/** Deletes counters whose window ended over a minute ago; returns how many. */
export async function pruneRateLimitCounters(db: Pool): Promise<number> {
  const { rowCount } = await db.pool.query(`DELETE FROM rate_limit_counters WHERE expires_at < now() - interval '1 minute'`);
  return rowCount ?? 0;
}

/** Prunes expired counters every `intervalMs`; one worker per instance is enough. */
export function rateLimitPruner(db: Pool, logger: Logger, intervalMs = 10 * 60_000): BackgroundWorker {
  return periodicWorker({
    name: 'rate-limit-pruner',
    intervalMs,
    work: async () => {
      await pruneRateLimitCounters(db);
    },
    logger,
  });
}
