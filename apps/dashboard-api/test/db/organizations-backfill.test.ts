// The organizations migration on a database filled the v0.7 way: migrate a scratch database up
// to the migration before it, insert users, agents, codes, dongles, groups and commands through
// the old shape (no organization anywhere), apply the new migration, and check that every row
// landed in its owner's personal organization, with its owner as the organization's owner.
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyMigrations } from '../../src/tooling/migrator.ts';
import { readLocalMigrations } from '../../src/platform/migration-status.ts';
import { migrationsDir } from '../../src/platform/paths.ts';
import { createScratchDatabase, type ScratchDatabase } from '../support/scratch-database.ts';

const MIGRATION = '20261201063000_organizations';

let scratch: ScratchDatabase;
let before: string;
let client: pg.Client;
const ids: Record<string, string> = {};

async function one<T extends pg.QueryResultRow>(sql: string, values: unknown[] = []): Promise<T> {
  const { rows } = await client.query<T>(sql, values);
  return rows[0]!;
}

beforeAll(async () => {
  scratch = await createScratchDatabase('orgs_backfill');
  // The migrations as they were before organizations: a copy without this one and any later.
  before = mkdtempSync(path.join(os.tmpdir(), 'fleet-v07-migrations-'));
  cpSync(migrationsDir, before, { recursive: true });
  for (const m of readLocalMigrations()) if (m.name >= MIGRATION) rmSync(path.join(before, m.name), { recursive: true });
  await applyMigrations(scratch.url, { migrationsDir: before });

  client = new pg.Client({ connectionString: scratch.url });
  await client.connect();
  // v0.7-era rows: two users with a fleet each, a user with nothing, an unowned dongle.
  for (const who of ['ada', 'bob', 'cyd']) {
    ids[who] = (await one<{ id: string }>(`INSERT INTO users (email, password_hash) VALUES ($1, 'x') RETURNING id`, [`${who}@v07.test`])).id;
  }
  for (const who of ['ada', 'bob']) {
    const user = ids[who];
    ids[`${who}Agent`] = (await one<{ id: string }>(`INSERT INTO agents (user_id, name, hostname, os, version) VALUES ($1, 'pc', 'pc', 'linux', '1') RETURNING id`, [user])).id;
    ids[`${who}Code`] = (await one<{ id: string }>(`INSERT INTO agent_enrollment_codes (user_id, code_hash, expires_at) VALUES ($1, $2, now()) RETURNING id`, [user, `hash-${who}`])).id;
    const dongle = async (n: number) =>
      (await one<{ id: string }>(
        `INSERT INTO dongles (device_id, owner_user_id, ownership_state) VALUES ($1, $2, 'CLAIMED_ACTIVE') RETURNING id`,
        [`${who === 'ada' ? 'a' : 'b'}${n}`.padEnd(16, '0'), user],
      )).id;
    ids[`${who}DongleA`] = await dongle(1);
    ids[`${who}DongleB`] = await dongle(2);
    ids[`${who}Group`] = (await one<{ id: string }>(`INSERT INTO dongle_groups (user_id, dongle_a_id, dongle_b_id) VALUES ($1, $2, $3) RETURNING id`, [user, ids[`${who}DongleA`], ids[`${who}DongleB`]])).id;
    ids[`${who}Command`] = (await one<{ id: string }>(
      `INSERT INTO commands (dongle_id, created_by_user_id, type, expires_at) VALUES ($1, $2, 'PING', now()) RETURNING id`,
      [ids[`${who}DongleA`], user],
    )).id;
  }
  // A system command (no creator) on Ada's dongle belongs to the dongle's owner.
  ids.systemCommand = (await one<{ id: string }>(`INSERT INTO commands (dongle_id, type, expires_at) VALUES ($1, 'GET_STATUS', now()) RETURNING id`, [ids.adaDongleB])).id;
  ids.unowned = (await one<{ id: string }>(`INSERT INTO dongles (device_id) VALUES ('ffffffffffffffff') RETURNING id`)).id;

  await applyMigrations(scratch.url); // now with the organizations migration
});
afterAll(async () => {
  await client?.end();
  await scratch?.drop();
  if (before) rmSync(before, { recursive: true, force: true });
});

const personalOrg = (userId: string) =>
  one<{ id: string; name: string }>(`SELECT id::text, name FROM organizations WHERE personal_owner_user_id = $1`, [userId]);
const orgOf = async (table: string, id: string) =>
  (await one<{ org: string | null }>(`SELECT organization_id::text AS org FROM ${table} WHERE id = $1`, [id])).org;

describe('organizations migration on v0.7 data', () => {
  it('gives every existing user exactly one personal organization, owned by them', async () => {
    for (const who of ['ada', 'bob', 'cyd']) {
      const org = await personalOrg(ids[who]!);
      expect(org.name).toBe(`${who}@v07.test`);
      const { rows } = await client.query(`SELECT user_id::text AS "userId", role::text AS role FROM memberships WHERE organization_id = $1`, [org.id]);
      expect(rows).toEqual([{ userId: ids[who], role: 'owner' }]);
    }
    expect((await one<{ n: number }>('SELECT count(*)::int AS n FROM organizations')).n).toBe(3);
  });

  it("puts every agent, code, owned dongle, group and command in its owner's personal organization", async () => {
    for (const who of ['ada', 'bob']) {
      const org = (await personalOrg(ids[who]!)).id;
      expect(await orgOf('agents', ids[`${who}Agent`]!)).toBe(org);
      expect(await orgOf('agent_enrollment_codes', ids[`${who}Code`]!)).toBe(org);
      expect(await orgOf('dongles', ids[`${who}DongleA`]!)).toBe(org);
      expect(await orgOf('dongles', ids[`${who}DongleB`]!)).toBe(org);
      expect(await orgOf('dongle_groups', ids[`${who}Group`]!)).toBe(org);
      expect(await orgOf('commands', ids[`${who}Command`]!)).toBe(org);
    }
    expect(await orgOf('commands', ids.systemCommand!)).toBe((await personalOrg(ids.ada!)).id);
    expect(await orgOf('dongles', ids.unowned!)).toBeNull();
    for (const table of ['agents', 'agent_enrollment_codes', 'dongle_groups', 'commands']) {
      expect((await one<{ n: number }>(`SELECT count(*)::int AS n FROM ${table} WHERE organization_id IS NULL`)).n, table).toBe(0);
    }
  });

  it('keeps v0.7-shaped inserts working afterwards: a new user gets a personal organization, their rows land in it', async () => {
    const user = (await one<{ id: string }>(`INSERT INTO users (email, password_hash) VALUES ('dee@v07.test', 'x') RETURNING id`)).id;
    const org = (await personalOrg(user)).id;
    const dongle = (await one<{ id: string }>(`INSERT INTO dongles (device_id, owner_user_id, ownership_state) VALUES ('dddddddddddddddd', $1, 'CLAIMED_ACTIVE') RETURNING id`, [user])).id;
    expect(await orgOf('dongles', dongle)).toBe(org);
    // Losing the owner takes the organization with it; an unowned dongle belongs to nobody.
    await client.query(`UPDATE dongles SET owner_user_id = NULL, ownership_state = 'UNCLAIMED' WHERE id = $1`, [dongle]);
    expect(await orgOf('dongles', dongle)).toBeNull();
    await client.query(`UPDATE dongles SET organization_id = $2 WHERE id = $1`, [dongle, org]);
    expect(await orgOf('dongles', dongle)).toBeNull();
  });
});
