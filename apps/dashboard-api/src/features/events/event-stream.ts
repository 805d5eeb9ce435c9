// One Server-Sent Events stream of an organization's events.
//
// Protocol (doc/events.md): each event is written as
//     id: <event id>\nevent: <type>\ndata: <JSON>\n\n
// A client resumes with the `Last-Event-ID` header (browsers send it on reconnect) or
// `?lastEventId=`: the stream first replays the table after that id, then continues live, each
// event exactly once. A comment line (`: heartbeat`) every `heartbeatMs` keeps proxies from
// closing an idle stream. `event: resync` (with `id:` = the newest event id) means "you missed
// events you cannot get from this stream: reload your state, then continue from here"; it is sent
// when the resume id was pruned by retention, and to a client that reads too slowly (its unsent
// bytes pass `maxBufferedBytes`), after which the stream ends rather than buffer without bound.
import type { Request, Response } from 'express';
import type { Database } from '../../platform/database.ts';
import { EVENT_COLUMNS, type EventHub, type EventRow } from './event-hub.ts';

export interface StreamOptions {
  heartbeatMs: number;
  maxBufferedBytes: number;
  /** How often to ask `stillAllowed` (an ended session, a removed member closes the stream). */
  recheckMs: number;
}

export interface StreamCaller {
  orgId: string;
  userId: string;
  /** false when the session ended, the key was revoked or the membership is gone. */
  stillAllowed(): Promise<boolean>;
}

const BACKLOG_PAGE = 500;

// ORDER BY events.id, not id: the select list turns `id` into text, and a bare name would sort
// by that output column ("10" < "9").
const BACKLOG_SQL = `SELECT ${EVENT_COLUMNS} FROM events WHERE organization_id = $1::uuid AND id > $2::bigint ORDER BY events.id LIMIT ${BACKLOG_PAGE}`;

export function formatEvent(row: EventRow): string {
  const data = { id: row.id, type: row.type, timestamp: row.createdAt, subject: { type: row.subjectType, id: row.subjectId }, data: row.data };
  return `id: ${row.id}\nevent: ${row.type}\ndata: ${JSON.stringify(data)}\n\n`;
}

const resyncFrame = (head: bigint, reason: 'pruned' | 'slow_client') =>
  `id: ${head}\nevent: resync\ndata: ${JSON.stringify({ reason, resumeFrom: head.toString() })}\n\n`;

/** The highest event id retention has deleted (0 when nothing was pruned). */
async function prunedThrough(db: Database): Promise<bigint> {
  const { rows } = await db.pool.query<{ id: string }>('SELECT pruned_through::text AS id FROM event_retention_mark WHERE id = 1');
  return BigInt(rows[0]?.id ?? '0');
}

/**
 * Serves the stream on `res` until the client goes, the caller loses access, or the client is
 * too slow. `resumeAfter` is the parsed Last-Event-ID (null: start with the next event).
 */
export async function serveEventStream(
  deps: { db: Database; hub: EventHub; options: StreamOptions; signal?: AbortSignal },
  req: Request,
  res: Response,
  caller: StreamCaller,
  resumeAfter: bigint | null,
): Promise<void> {
  const { db, hub, options } = deps;
  res.status(200).set({
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    // nginx and similar proxies must not buffer the stream.
    'x-accel-buffering': 'no',
  });
  res.flushHeaders();
  res.write('retry: 3000\n\n');

  let closed = false;
  let lastSent = 0n;
  let live = false;
  const pending: EventRow[] = [];
  const timers: NodeJS.Timeout[] = [];
  let unsubscribe = () => {};

  const close = () => {
    if (closed) return;
    closed = true;
    for (const timer of timers) clearInterval(timer);
    deps.signal?.removeEventListener('abort', close);
    unsubscribe();
    res.end();
  };
  req.on('close', close);
  res.on('error', close);
  // Shutdown ends every stream (clients reconnect to another instance with Last-Event-ID).
  if (deps.signal?.aborted) return close();
  deps.signal?.addEventListener('abort', close, { once: true });

  const resync = (reason: 'pruned' | 'slow_client', head: bigint) => {
    if (closed) return;
    res.write(resyncFrame(head, reason));
    close();
  };

  const write = (rows: readonly EventRow[]) => {
    for (const row of rows) {
      if (closed) return;
      const id = BigInt(row.id);
      if (id <= lastSent) continue;
      res.write(formatEvent(row));
      lastSent = id;
      // A removed member's stream ends with the event that removed them.
      if (row.type === 'member.removed' && row.subjectId === caller.userId) return close();
      if (live && res.writableLength > options.maxBufferedBytes) return resync('slow_client', lastSent);
    }
  };

  const subscription = await hub.subscribe(caller.orgId, {
    deliver: (rows) => (live ? write(rows) : pending.push(...rows)),
  });
  unsubscribe = subscription.unsubscribe;
  if (closed) return unsubscribe();

  if (resumeAfter === null) {
    lastSent = subscription.head;
  } else {
    if (resumeAfter < (await prunedThrough(db))) return resync('pruned', subscription.head > resumeAfter ? subscription.head : resumeAfter);
    lastSent = resumeAfter;
    // Replay from the table, waiting for the socket between pages (backpressure, not buffering).
    for (;;) {
      const { rows } = await db.pool.query<EventRow>(BACKLOG_SQL, [caller.orgId, lastSent.toString()]);
      if (closed) return;
      write(rows);
      if (closed || rows.length < BACKLOG_PAGE) break;
      if (res.writableNeedDrain) await new Promise((resolve) => res.once('drain', resolve));
    }
  }
  live = true;
  write(pending.splice(0));

  timers.push(setInterval(() => !closed && res.write(': heartbeat\n\n'), options.heartbeatMs));
  let checking = false;
  timers.push(
    setInterval(() => {
      if (closed || checking) return;
      checking = true;
      caller
        .stillAllowed()
        .then((allowed) => !allowed && close())
        .catch(() => undefined)
        .finally(() => (checking = false));
    }, options.recheckMs),
  );
}
