// express-session store on the Prisma-managed `sessions` table, built on connect-pg-simple
// (which provides get, destroy and expiry pruning). Two behaviours are ours:
// - set() also fills user_id, ip and user_agent, so "my sessions" and "end every session of
//   this user" are plain queries, and rows die with their user (FK cascade);
// - touch() writes at most once per `touchIntervalMs`: an active session does not cost a store
//   write on every request. The idle deadline therefore has that much slack.
import connectPgSimple from 'connect-pg-simple';
import session, { type SessionData } from 'express-session';
import type { Request } from 'express';
import type pg from 'pg';

declare module 'express-session' {
  interface SessionData {
    userId: string;
    csrfToken: string;
    /** ms since epoch; the absolute lifetime counts from here */
    createdAt: number;
    /** ms since epoch of the last write that moved the idle deadline */
    refreshedAt: number;
    ip?: string | null;
    userAgent?: string | null;
  }
}

const PgStore = connectPgSimple(session);

export interface SessionTimings {
  idleMs: number;
  absoluteMs: number;
  touchIntervalMs: number;
}

type Callback = (error?: unknown) => void;

export class FleetSessionStore extends PgStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly timings: SessionTimings,
  ) {
    // The table is created by the migrations, never by the store.
    super({ pool, tableName: 'sessions', createTableIfMissing: false, pruneSessionInterval: 15 * 60 });
  }

  /** The row's expiry: the idle deadline, never past the absolute one. */
  expiresAt(sess: SessionData, now = Date.now()): Date {
    return new Date(Math.min(now + this.timings.idleMs, sess.createdAt + this.timings.absoluteMs));
  }

  /** What set() last wrote for a session object, to skip an identical second write. */
  private readonly lastWritten = new WeakMap<object, string>();

  override set(sid: string, sess: SessionData, callback?: Callback): void {
    // Login saves explicitly before answering, and express-session saves again at the end of
    // the response (after regenerate() it counts the session as modified). Same content: no write.
    const fingerprint = JSON.stringify([sid, { ...sess, cookie: undefined, refreshedAt: undefined }]);
    if (this.lastWritten.get(sess) === fingerprint) {
      callback?.();
      return;
    }
    const now = Date.now();
    const stored = { ...sess, refreshedAt: now };
    this.pool
      .query(
        `INSERT INTO sessions (sid, sess, expire, user_id, ip, user_agent)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (sid) DO UPDATE SET sess = EXCLUDED.sess, expire = EXCLUDED.expire`,
        [sid, JSON.stringify(stored), this.expiresAt(sess, now), sess.userId, sess.ip ?? null, sess.userAgent ?? null],
      )
      .then(() => {
        sess.refreshedAt = now;
        this.lastWritten.set(sess, fingerprint);
        callback?.();
      }, (error: unknown) => callback?.(error));
  }

  /**
   * Only sessions with a user are ever stored, so a pre-login session has no row to delete:
   * skip the DELETE that express-session would send before issuing the new id. A session that
   * was logged in (a re-login) is destroyed as usual, so its old id dies.
   */
  override regenerate(req: Request, callback: (error?: unknown) => void): void {
    if (req.session?.userId) return super.regenerate(req, callback);
    (this as unknown as { generate(req: Request): void }).generate(req);
    callback();
  }

  override touch(sid: string, sess: SessionData, callback?: Callback): void {
    const now = Date.now();
    if (now - (sess.refreshedAt ?? 0) < this.timings.touchIntervalMs) {
      callback?.();
      return;
    }
    this.pool
      .query(
        `UPDATE sessions SET expire = $1, sess = jsonb_set(sess::jsonb, '{refreshedAt}', to_jsonb($2::bigint))::json WHERE sid = $3`,
        [this.expiresAt(sess, now), now, sid],
      )
      .then(() => callback?.(), (error: unknown) => callback?.(error));
  }
}
