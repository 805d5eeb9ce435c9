// The baseline the command benches compare against: a bare node:http server with a pg pool
// running the same SQL statements the app runs for each request (captured from the app's pg
// traffic; the hand-out, result, guard, membership and list statements are imported from the
// features' *.sql.ts files, which the app runs too), with
// none of the framework: no Express, no Prisma, no zod, no logging, no metrics.
//
//   GET  /agent/commands?limit=N          bearer auth (the guard's one join) + hand-out
//   POST /agent/commands/:id/result       bearer auth + BEGIN, result UPDATE, audit INSERT, COMMIT
//   GET  /dongles                         signed session cookie + session + user + the one list query
//   POST /dongles/:id/commands            session + user + BEGIN, dongle check, INSERT, audit, NOTIFY, COMMIT
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { CLAIM, claimParams, RESULT } from '../../src/features/commands/commands.sql.ts';
import { AGENT_AUTH, SESSION_USER } from '../../src/features/auth/auth.sql.ts';
import { INSERT_AUDIT } from '../../src/platform/audit/audit-writer.ts';
import { inPgTransaction, run } from '../../src/platform/database.ts';
import { DONGLE_LIST } from '../../src/features/dongles/dongles.sql.ts';
import { MEMBERSHIP } from '../../src/features/organizations/organizations.sql.ts';

export interface BaselineServer {
  url: string;
  close(): Promise<void>;
}

const SESSION_SQL = `SELECT sess FROM "sessions" WHERE sid = $1 AND expire >= to_timestamp($2)`;
const AUDIT_SQL = `INSERT INTO "public"."audit_logs" ("actor_type","actor_id","action","target_type","target_id","result","ip","user_agent","details","created_at") VALUES (CAST($1::text AS "public"."actor_type"),$2,$3,$4,$5,$6,$7,$8,$9,$10) RETURNING "public"."audit_logs"."id", "public"."audit_logs"."actor_type"::text, "public"."audit_logs"."actor_id", "public"."audit_logs"."action", "public"."audit_logs"."target_type", "public"."audit_logs"."target_id", "public"."audit_logs"."result", "public"."audit_logs"."ip", "public"."audit_logs"."user_agent", "public"."audit_logs"."details", "public"."audit_logs"."created_at"`;
const DONGLE_STATE_SQL = `SELECT owner_user_id, ownership_state FROM dongles WHERE id = $1::uuid`;
const INSERT_COMMAND_SQL = `INSERT INTO commands (dongle_id, created_by_user_id, type, payload, expires_at, timeout_seconds)
VALUES ($1::uuid, $2::uuid, $3::command_type, $4::jsonb, now() + make_interval(secs => $5), $6) RETURNING *`;

class HttpError extends Error {
  constructor(readonly status: number) {
    super(String(status));
  }
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function readJson(req: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {};
}

export async function startBaselineServer(options: { databaseUrl: string; sessionSecret: string; poolMax?: number }): Promise<BaselineServer> {
  const pool = new pg.Pool({ connectionString: options.databaseUrl, max: options.poolMax ?? 10 });
  pool.on('error', () => undefined);

  async function agentFrom(req: http.IncomingMessage) {
    const match = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
    if (!match) throw new HttpError(401);
    const [agent] = await run(pool, AGENT_AUTH, [createHash('sha256').update(match[1]!).digest('hex')]);
    if (!agent) throw new HttpError(401);
    return agent;
  }

  // express-session's cookie: "s:" + sid + "." + base64(HMAC-SHA256(sid)) without padding.
  async function userFrom(req: http.IncomingMessage) {
    const raw = /(?:^|;\s*)fleet\.sid=([^;]+)/.exec(req.headers.cookie ?? '')?.[1];
    const value = raw ? decodeURIComponent(raw) : '';
    if (!value.startsWith('s:')) throw new HttpError(401);
    const dot = value.lastIndexOf('.');
    const sid = value.slice(2, dot);
    const expected = Buffer.from(createHmac('sha256', options.sessionSecret).update(sid).digest('base64').replace(/=+$/, ''));
    const given = Buffer.from(value.slice(dot + 1));
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) throw new HttpError(401);
    const session = (await pool.query(SESSION_SQL, [sid, Math.floor(Date.now() / 1000)])).rows[0];
    const userId = (typeof session?.sess === 'string' ? JSON.parse(session.sess) : session?.sess)?.userId;
    if (!userId) throw new HttpError(401);
    const [user] = await run(pool, SESSION_USER, [userId]);
    if (!user || user.status !== 'active') throw new HttpError(403);
    return user;
  }

  // The app's own raw transaction helper: same BEGIN/COMMIT/ROLLBACK as the result post.
  const inTransaction = <T>(work: (client: pg.PoolClient) => Promise<T>) => inPgTransaction(pool, work);

  // Command creation still goes through Prisma in the app, so its audit insert is Prisma's.
  const audit = (client: pg.PoolClient, actorType: string, actorId: string | null, action: string, targetId: string, details: unknown) =>
    client.query(AUDIT_SQL, [actorType, actorId, action, 'command', targetId, 'success', '127.0.0.1', null, JSON.stringify(details), new Date()]);

  async function route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://baseline');
    const path = url.pathname;
    if (req.method === 'GET' && path === '/agent/commands') {
      const agent = await agentFrom(req);
      const limit = Number(url.searchParams.get('limit') ?? 10);
      // Named, as the service runs it (planned once per connection).
      const rows = await run(pool, CLAIM, claimParams(agent, limit));
      return send(res, 200, { commands: rows.map((r) => ({ id: r.id, dongleId: r.dongle_id, deviceId: r.device_id, type: r.type, payload: r.payload })) });
    }
    let match = /^\/agent\/commands\/([0-9a-f-]{36})\/result$/.exec(path);
    if (req.method === 'POST' && match) {
      const agent = await agentFrom(req);
      const body = (await readJson(req)) as { status: 'SUCCEEDED' | 'FAILED'; result?: unknown; error?: string };
      const row = await inTransaction(async (client) => {
        const [updated] = await run(client, RESULT, [match![1]!, agent.id, body.status, body.result === undefined ? null : JSON.stringify(body.result), body.error ?? null]);
        if (updated) {
          const details = JSON.stringify({ status: updated.status, type: updated.type, dongleId: updated.dongle_id });
          await client.query(INSERT_AUDIT, ['agent', agent.id, 'command.result', 'command', updated.id, 'success', '127.0.0.1', null, details, null]);
        }
        return updated;
      });
      if (!row) throw new HttpError(404);
      return send(res, 200, row);
    }
    if (req.method === 'GET' && path === '/dongles') {
      const user = await userFrom(req);
      const limit = Number(url.searchParams.get('limit') ?? 50);
      // The app's organization guard: the caller's membership in their personal organization.
      const [org] = await run(pool, MEMBERSHIP, [user.id, null]);
      if (!org) throw new HttpError(404);
      const rows = (await run(pool, DONGLE_LIST, [org.id, null, null, limit + 1])).slice(0, limit);
      const items = rows.map((d) => ({
        id: d.id,
        deviceId: d.deviceId,
        name: d.name,
        state: d.ownershipState,
        firmwareVersion: d.firmwareVersion,
        lastSeenAt: d.lastSeenAt?.toISOString() ?? null,
        lastSeenAgentId: d.agentOrgId === org.id ? d.agentId : null,
        groupId: d.groupId,
        canConfigVersion: d.canVersion ?? 0,
        canConfigAppliedVersion: d.canAppliedVersion ?? 0,
        createdAt: d.createdAt.toISOString(),
        updatedAt: d.updatedAt.toISOString(),
      }));
      return send(res, 200, { items, nextCursor: null });
    }
    match = /^\/dongles\/([0-9a-f-]{36})\/commands$/.exec(path);
    if (req.method === 'POST' && match) {
      const user = await userFrom(req);
      const body = (await readJson(req)) as { type: string; payload?: unknown; ttlSeconds?: number };
      const command = await inTransaction(async (client) => {
        const dongle = (await client.query(DONGLE_STATE_SQL, [match![1]])).rows[0];
        if (!dongle || dongle.owner_user_id !== user.id) throw new HttpError(404);
        if (dongle.ownership_state !== 'CLAIMED_ACTIVE') throw new HttpError(409);
        const row = (await client.query(INSERT_COMMAND_SQL, [match![1], user.id, body.type, JSON.stringify(body.payload ?? {}), body.ttlSeconds ?? 60, 30])).rows[0];
        await audit(client, 'user', user.id, 'command.create', row.id, { dongleId: row.dongle_id, type: row.type, ttlSeconds: body.ttlSeconds ?? 60 });
        await client.query('SELECT pg_notify($1, $2)', ['fleet_commands', dongle.owner_user_id]);
        return row;
      });
      return send(res, 201, command);
    }
    throw new HttpError(404);
  }

  const server = http.createServer((req, res) => {
    route(req, res).catch((error: unknown) => send(res, error instanceof HttpError ? error.status : 500, { error: { code: 'baseline', message: String(error) } }));
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await pool.end();
    },
  };
}
