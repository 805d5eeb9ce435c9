// Idempotency-Key (IETF httpapi draft, spec §6): the one mechanism, over `idempotency_keys`.
//
//   api.post('/:id/commands', spec, idempotency(db, { operation: 'POST /api/dongles/:id/commands' }), handler)
//   // in the service, inside the transaction that creates the resource:
//   createOncePerKey(tx, res.locals.idempotency, { create: () => enqueue(tx, …), existing: (id) => load(tx, id) })
//
// - No header: the request runs as usual.
// - First use of a key: a row is claimed (response still null = "in flight"), the handler runs,
//   and a 2xx response is stored before it is sent. Any other outcome (4xx, 5xx) releases the
//   key, so the client may retry with it.
// - The resource the key created is recorded on the key's row in the transaction that creates it
//   (`createOncePerKey`), which also locks that row: two attempts with one key never both create,
//   and a crash between that commit and the stored response is answered on retry with the same
//   resource (201), not a second one.
// - "In flight" is a short lease (`leaseSeconds`, 10 s), not a lock: an attempt whose release
//   could not be written (the database was down: the 503 itself) or whose instance died frees
//   the key by itself. A failed release is also retried every second while the lease runs, so
//   a retry after a blip proceeds as soon as the database is back. A lapsed lease whose key
//   already names a resource is taken over only by the same request.
// - Same key, same request (method, path, canonical JSON body): the stored response is replayed
//   with `Idempotent-Replayed: true`.
// - Same key, other request: 422 idempotency_key_reused. Same key while the first is in flight:
//   409 idempotency_request_in_flight.
// Keys are scoped per caller (user or agent) and operation, and kept `ttlHours` (24 h); the
// pruner worker deletes expired rows. The table's UNIQUE (scope, key) makes the claim atomic
// across instances.
import type { RequestHandler, Response } from 'express';
import { canonicalJson } from '../canonical-json.ts';
import { sql, type Database, type Db } from '../database.ts';
import { AppError, quotaExceeded, unprocessable } from '../errors.ts';
import { periodicWorker, type BackgroundWorker } from '../lifecycle.ts';
import type { Logger } from '../logger.ts';
import { sha256Hex } from '../secrets.ts';

export interface IdempotencyOptions {
  /** Route identity inside the scope, e.g. "POST /api/dongles/:id/commands". */
  operation: string;
  ttlHours?: number;
  /** An in-flight row older than this was left by a failed or crashed attempt and may be taken over. */
  leaseSeconds?: number;
  /** Most live keys one caller may hold for this operation (a new key beyond it is a 429). */
  maxKeysPerCaller?: number;
  logger?: Logger;
}

const IDEMPOTENCY_HEADER = 'Idempotency-Key';
/** How long a key is kept by default (`ttlHours`). */
export const IDEMPOTENCY_TTL_HOURS = 24;
/** How long an attempt holds its key in flight before another may take it over. */
export const IDEMPOTENCY_LEASE_SECONDS = 10;

// The draft defines the value as a structured-field string ("…"); bare tokens are accepted too.
const KEY = /^"?([\x21\x23-\x7e]{1,255})"?$/;

// A new key is only inserted while the caller holds fewer than $6 live ones (counted only for a
// key not on record, so replays and takeovers cost no count). An expired row starts afresh; a
// lapsed lease is taken over, but one whose key names a resource only by the same request (the
// retry then gets that resource; another body is a 422 below).
const CLAIM_SQL = `
INSERT INTO idempotency_keys (scope, key, request_hash, expires_at)
SELECT $1, $2, $3, now() + make_interval(hours => $4)
 WHERE EXISTS (SELECT 1 FROM idempotency_keys WHERE scope = $1 AND key = $2)
    OR (SELECT count(*) FROM idempotency_keys WHERE scope = $1 AND expires_at > now()) < $6
ON CONFLICT (scope, key) DO UPDATE
   SET request_hash = EXCLUDED.request_hash, response_status = NULL, response_body = NULL,
       resource_id = CASE WHEN idempotency_keys.expires_at <= now() THEN NULL ELSE idempotency_keys.resource_id END,
       created_at = now(), expires_at = EXCLUDED.expires_at
 WHERE idempotency_keys.expires_at <= now()
    OR (idempotency_keys.response_status IS NULL AND idempotency_keys.created_at < now() - make_interval(secs => $5)
        AND (idempotency_keys.resource_id IS NULL OR idempotency_keys.request_hash = EXCLUDED.request_hash))
RETURNING id, created_at::text AS claimed_at`;

/** The key this request holds (`res.locals.idempotency`), for `createOncePerKey`. */
export interface IdempotencyClaim {
  id: string;
  key: string;
  requestHash: string;
}

function callerScope(res: Response): string | undefined {
  if (res.locals.userId) return `user:${res.locals.userId}`;
  if (res.locals.agentId) return `agent:${res.locals.agentId}`;
  return undefined;
}

export function idempotency(db: Database, options: IdempotencyOptions): RequestHandler {
  const ttlHours = options.ttlHours ?? IDEMPOTENCY_TTL_HOURS;
  const lease = options.leaseSeconds ?? IDEMPOTENCY_LEASE_SECONDS;
  const maxKeys = options.maxKeysPerCaller ?? Number.MAX_SAFE_INTEGER;

  return async (req, res, next) => {
    const header = req.get(IDEMPOTENCY_HEADER);
    if (header === undefined) return next();
    const match = KEY.exec(header.trim());
    if (!match) {
      return next(unprocessable('The request is not valid.', [{ path: 'headers.idempotency-key', message: 'Idempotency-Key must be 1–255 visible ASCII characters.' }]));
    }
    const caller = callerScope(res);
    if (!caller) throw new Error('idempotency() must run after a guard that identifies the caller');
    const scope = `${caller}:${options.operation}`;
    const key = match[1]!;
    const requestHash = sha256Hex(`${req.method} ${req.baseUrl}${req.path}\n${canonicalJson(req.body)}`);

    // Two tries: the row we collided with may be released (deleted) between our two queries.
    for (let attempt = 0; attempt < 2; attempt++) {
      const claimed = await db.pool.query<{ id: string; claimed_at: string }>(CLAIM_SQL, [scope, key, requestHash, ttlHours, lease, maxKeys]);
      if (claimed.rows[0]) {
        recordOutcome(db, res, claimed.rows[0], lease, options.logger);
        res.locals.idempotency = { id: claimed.rows[0].id, key, requestHash };
        return next();
      }
      const existing = await db.pool.query<{ request_hash: string; response_status: number | null; response_body: unknown }>(
        'SELECT request_hash, response_status, response_body FROM idempotency_keys WHERE scope = $1 AND key = $2',
        [scope, key],
      );
      const row = existing.rows[0];
      // Not claimed and not on record: the quota refused it (or the row was just released).
      if (!row) {
        if (attempt === 0) continue;
        throw quotaExceeded('idempotency_keys_per_user', maxKeys, `You already hold ${maxKeys} Idempotency-Keys from the last ${ttlHours} hours; retry without one or later.`);
      }
      if (row.request_hash !== requestHash) {
        throw reused();
      }
      if (row.response_status === null) throw inFlight();
      res.setHeader('Idempotent-Replayed', 'true');
      res.status(row.response_status).json(row.response_body);
      return;
    }
    throw inFlight();
  };
}

const reused = () => new AppError(422, 'idempotency_key_reused', 'This Idempotency-Key was already used for a different request.');
const inFlight = () =>
  new AppError(409, 'idempotency_request_in_flight', 'A request with this Idempotency-Key is still being processed; retry shortly.', undefined, { 'Retry-After': '1' });

/**
 * Creates the resource at most once per key, inside the caller's transaction: locks the key's
 * row (another attempt with the key waits here until this transaction ends), returns what an
 * earlier attempt committed (`existing`), or runs `create` and records the new resource's id on
 * the key, committed together. Without a key (`claim` undefined) it just runs `create`.
 */
export async function createOncePerKey<T extends { id: string }>(
  db: Db,
  claim: IdempotencyClaim | undefined,
  steps: { create: () => Promise<T>; existing: (resourceId: string) => Promise<T> },
): Promise<T> {
  if (!claim) return steps.create();
  const [row] = await sql<{ resource_id: string | null; request_hash: string }>(
    db,
    'SELECT resource_id::text AS resource_id, request_hash FROM idempotency_keys WHERE id = $1::uuid FOR UPDATE',
    [claim.id],
  );
  if (!row) throw inFlight(); // released or pruned under us: the client retries
  if (row.resource_id !== null) {
    // A takeover may have written its own hash while an earlier attempt was still running.
    if (row.request_hash !== claim.requestHash) throw reused();
    return steps.existing(row.resource_id);
  }
  const created = await steps.create();
  await sql(db, 'UPDATE idempotency_keys SET resource_id = $2::uuid, request_hash = $3 WHERE id = $1::uuid', [claim.id, created.id, claim.requestHash]);
  return created;
}

// Only this attempt's claim (its created_at): a late release must not free a retry's takeover.
const RELEASE_SQL = 'DELETE FROM idempotency_keys WHERE id = $1 AND created_at = $2::timestamptz AND response_status IS NULL';

interface Claim {
  id: string;
  claimed_at: string;
}

/** Releases the key; while the database is unreachable, tries again every second until the lease lapses anyway. */
function release(db: Database, claim: Claim, leaseSeconds: number, logger?: Logger): Promise<unknown> {
  const giveUpAt = Date.now() + leaseSeconds * 1000;
  const attempt = (): Promise<unknown> =>
    db.pool.query(RELEASE_SQL, [claim.id, claim.claimed_at]).catch((error: unknown) => {
      if (Date.now() >= giveUpAt) {
        logger?.warn({ err: (error as Error).message }, 'could not release an idempotency key; its lease will lapse');
        return undefined;
      }
      setTimeout(() => void attempt(), 1000).unref();
      return undefined;
    });
  return attempt();
}

/** Stores a 2xx JSON response before it is sent; releases the key for anything else. */
function recordOutcome(db: Database, res: Response, claim: Claim, leaseSeconds: number, logger?: Logger): void {
  let settled = false;
  const originalJson = res.json.bind(res);
  res.json = (body: unknown) => {
    res.json = originalJson;
    settled = true;
    const status = res.statusCode;
    const write =
      status >= 200 && status < 300
        ? db.pool.query('UPDATE idempotency_keys SET response_status = $2, response_body = $3::jsonb WHERE id = $1', [claim.id, status, JSON.stringify(body ?? null)])
        : release(db, claim, leaseSeconds, logger);
    write
      .catch((error: unknown) => logger?.warn({ err: (error as Error).message }, 'could not record the idempotency outcome'))
      .finally(() => originalJson(body));
    return res;
  };
  // A response not sent through res.json (e.g. 204) cannot be replayed: release the key.
  res.on('finish', () => {
    if (!settled) void release(db, claim, leaseSeconds, logger);
  });
}

/** Deletes expired keys in small batches. */
export function createIdempotencyPruner(options: { db: Database; logger: Logger; intervalMs?: number }): BackgroundWorker {
  return periodicWorker({
    name: 'idempotency-pruner',
    intervalMs: options.intervalMs ?? 15 * 60_000,
    work: async () => {
      for (;;) {
        const { rowCount } = await options.db.pool.query(
          'DELETE FROM idempotency_keys WHERE id IN (SELECT id FROM idempotency_keys WHERE expires_at <= now() LIMIT 1000)',
        );
        if ((rowCount ?? 0) < 1000) return;
      }
    },
    logger: options.logger,
  });
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Locals {
      /** Set by idempotency() for the request that owns the key; passed to createOncePerKey. */
      idempotency?: IdempotencyClaim;
    }
  }
}
