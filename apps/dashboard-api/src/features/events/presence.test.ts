// Presence transitions are announced exactly once, with two instances flipping at the same time,
// after an instance dies mid-pass, and not again after a restart.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { createTestOrganization } from '../../../test/support/organizations.ts';
import { connectDatabase, type Database } from '../../platform/database.ts';
import { createLogger } from '../../platform/logger.ts';
import { applyPresence } from './presence.ts';

const logger = createLogger({ level: 'silent' });
const POLL_MS = 30_000;

async function eventsOf(db: Database, orgId: string) {
  const { rows } = await db.pool.query<{ type: string; subject_id: string }>('SELECT type, subject_id FROM events WHERE organization_id = $1 ORDER BY id', [orgId]);
  return rows;
}

async function fleet(db: Database, orgId: string, agents: number) {
  const { rows: users } = await db.pool.query<{ id: string }>(`INSERT INTO users (email, password_hash) VALUES ('presence-' || gen_random_uuid() || '@example.test', 'x') RETURNING id::text`);
  const { rows } = await db.pool.query<{ id: string }>(
    `INSERT INTO agents (user_id, organization_id, name, hostname, os, version, last_seen_at)
     SELECT $1::uuid, $2::uuid, 'a' || n, 'h', 'linux', '1', now() FROM generate_series(1, $3::int) n RETURNING id::text`,
    [users[0]!.id, orgId, agents],
  );
  await db.pool.query(
    `INSERT INTO dongles (device_id, organization_id, ownership_state, owner_user_id, last_seen_at, last_seen_agent_id)
     SELECT substr(md5(random()::text), 1, 16), $2::uuid, 'CLAIMED_ACTIVE', $1::uuid, now(), $3::uuid`,
    [users[0]!.id, orgId, rows[0]!.id],
  );
  return rows.map((r) => r.id);
}

describe('presence events', () => {
  let one: Database;
  let two: Database;
  beforeAll(() => {
    one = connectDatabase({ url: inject('databaseUrl'), poolMax: 4, logger });
    two = connectDatabase({ url: inject('databaseUrl'), poolMax: 4, logger });
  });
  afterAll(async () => {
    await one.close();
    await two.close();
  });

  it('emits one online and one offline event per transition with two instances racing', async () => {
    const org = await createTestOrganization(one);
    const agents = await fleet(one, org, 40);
    await Promise.all([1, 2, 3].flatMap(() => [applyPresence(one, POLL_MS), applyPresence(two, POLL_MS)]));
    let events = await eventsOf(one, org);
    expect(events.filter((e) => e.type === 'agent.online').map((e) => e.subject_id).sort()).toEqual([...agents].sort());
    expect(events.filter((e) => e.type === 'dongle.online')).toHaveLength(1);

    await one.pool.query(`UPDATE agents SET last_seen_at = now() - interval '1 hour' WHERE organization_id = $1`, [org]);
    await one.pool.query(`UPDATE dongles SET last_seen_at = now() - interval '1 hour' WHERE organization_id = $1`, [org]);
    await Promise.all([1, 2, 3].flatMap(() => [applyPresence(one, POLL_MS), applyPresence(two, POLL_MS)]));
    events = await eventsOf(one, org);
    expect(events.filter((e) => e.type === 'agent.offline').map((e) => e.subject_id).sort()).toEqual([...agents].sort());
    expect(events.filter((e) => e.type === 'dongle.offline')).toHaveLength(1);

    // A restart (a fresh pool, as a new process would have) finds nothing to announce.
    const restarted = connectDatabase({ url: inject('databaseUrl'), poolMax: 2, logger });
    try {
      await applyPresence(restarted, POLL_MS);
    } finally {
      await restarted.close();
    }
    expect(await eventsOf(one, org)).toHaveLength(events.length);
  });

  it('announces rows once even when an instance dies in the middle of flipping them', async () => {
    const org = await createTestOrganization(one);
    const agents = await fleet(one, org, 10);
    // An instance that locked and flipped half the agents, then died before committing.
    const doomed = new pg.Client({ connectionString: inject('databaseUrl') });
    doomed.on('error', () => undefined); // it is about to be killed
    await doomed.connect();
    await doomed.query('BEGIN');
    await doomed.query(`UPDATE agents SET online = true WHERE id = ANY($1::uuid[])`, [agents.slice(0, 5)]);
    const { rows } = await doomed.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    // Meanwhile the live instances skip the locked rows and announce the others.
    await Promise.all([applyPresence(one, POLL_MS), applyPresence(two, POLL_MS)]);
    expect((await eventsOf(one, org)).filter((e) => e.type === 'agent.online')).toHaveLength(5);
    await one.pool.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
    await doomed.end().catch(() => undefined);
    await Promise.all([applyPresence(one, POLL_MS), applyPresence(two, POLL_MS)]);
    const online = (await eventsOf(one, org)).filter((e) => e.type === 'agent.online').map((e) => e.subject_id);
    expect(online.sort()).toEqual([...agents].sort());
  });
});
