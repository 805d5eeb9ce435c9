// Every invariant the database itself enforces, each proved by a write that it refuses. Raw SQL
// through pg on the shared test database; every test makes its own rows (random emails and
// device ids), so nothing here depends on or disturbs other test files.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { readFixture } from './seed-004-blocks.ts';

const pool = new pg.Pool({ connectionString: inject('databaseUrl'), max: 4 });
afterAll(() => pool.end());

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

async function one<T>(sql: string, params: unknown[] = []): Promise<T> {
  const { rows } = await pool.query(sql, params);
  return rows[0] as T;
}

/** Asserts the write is refused with this SQLSTATE (and constraint name, when one applies). */
async function expectRefused(write: Promise<unknown>, expected: { code: string; constraint?: string; message?: RegExp }) {
  const error = await write.then(
    () => undefined,
    (e: unknown) => e as pg.DatabaseError,
  );
  expect(error, 'the write should have been refused').toBeInstanceOf(Error);
  expect(error!.code).toBe(expected.code);
  if (expected.constraint) expect(error!.constraint).toBe(expected.constraint);
  if (expected.message) expect(error!.message).toMatch(expected.message);
}

const UNIQUE = '23505';
const CHECK = '23514';
const INSUFFICIENT_PRIVILEGE = '42501';

async function insertUser(): Promise<string> {
  const row = await one<{ id: string }>(`INSERT INTO users (email, password_hash) VALUES ($1, 'hash') RETURNING id`, [`inv-${hex(5)}@example.test`]);
  return row.id;
}

async function insertDongle(ownerId: string | null, state = ownerId ? 'CLAIMED_ACTIVE' : 'UNCLAIMED', deviceId = hex(8)) {
  return pool.query<{ id: string }>(
    `INSERT INTO dongles (device_id, owner_user_id, ownership_state) VALUES ($1, $2, $3::ownership_state) RETURNING id`,
    [deviceId, ownerId, state],
  );
}

async function newDongle(ownerId: string): Promise<string> {
  return (await insertDongle(ownerId)).rows[0]!.id;
}

function insertGroup(userId: string, dongleA: string, dongleB: string) {
  return pool.query<{ id: string }>(`INSERT INTO dongle_groups (user_id, dongle_a_id, dongle_b_id) VALUES ($1, $2, $3) RETURNING id`, [userId, dongleA, dongleB]);
}

async function insertAgent(userId: string): Promise<string> {
  const row = await one<{ id: string }>(`INSERT INTO agents (user_id, name, hostname, os, version) VALUES ($1, 'pc', 'pc.local', 'linux', '1.0') RETURNING id`, [userId]);
  return row.id;
}

async function insertAudit(): Promise<string> {
  const row = await one<{ id: string }>(`INSERT INTO audit_logs (actor_type, action) VALUES ('system', $1) RETURNING id`, [`test.invariant.${hex(4)}`]);
  return row.id;
}

async function auditExists(id: string): Promise<boolean> {
  return (await pool.query('SELECT 1 FROM audit_logs WHERE id = $1', [id])).rowCount === 1;
}

/** Runs `work` in a transaction on its own client and always rolls back. */
async function inRolledBackTransaction(work: (client: pg.PoolClient) => Promise<unknown>): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(`SET LOCAL lock_timeout = '5s'`);
    await work(client);
  } finally {
    await client.query('ROLLBACK').catch(() => undefined);
    client.release();
  }
}

describe('groups', () => {
  it('refuses a group whose two slots hold the same dongle', async () => {
    const user = await insertUser();
    const x = await newDongle(user);
    await expectRefused(insertGroup(user, x, x), { code: CHECK, constraint: 'dongle_groups_distinct_dongles' });
  });

  it('refuses dongle_a of one group as dongle_b of another', async () => {
    const user = await insertUser();
    const [x, y, z] = [await newDongle(user), await newDongle(user), await newDongle(user)];
    await insertGroup(user, x, y);
    await expectRefused(insertGroup(user, z, x), { code: UNIQUE, constraint: 'dongle_group_members_dongle_id_key' });
  });

  it('refuses dongle_b of one group as dongle_a of another', async () => {
    const user = await insertUser();
    const [x, y, z] = [await newDongle(user), await newDongle(user), await newDongle(user)];
    await insertGroup(user, y, x);
    await expectRefused(insertGroup(user, x, z), { code: UNIQUE, constraint: 'dongle_group_members_dongle_id_key' });
  });

  it('refuses a dongle in the same slot of a second group', async () => {
    const user = await insertUser();
    const [x, y, z] = [await newDongle(user), await newDongle(user), await newDongle(user)];
    await insertGroup(user, x, y);
    await expectRefused(insertGroup(user, x, z), { code: UNIQUE, constraint: 'dongle_groups_dongle_a_id_key' });
  });

  it('moves the membership when a group changes its slots', async () => {
    const user = await insertUser();
    const [a, b, c, d] = [await newDongle(user), await newDongle(user), await newDongle(user), await newDongle(user)];
    const group = (await insertGroup(user, a, b)).rows[0]!.id;
    await pool.query('UPDATE dongle_groups SET dongle_b_id = $2 WHERE id = $1', [group, c]);
    const members = await pool.query<{ dongle_id: string }>('SELECT dongle_id FROM dongle_group_members WHERE group_id = $1', [group]);
    expect(members.rows.map((r) => r.dongle_id).sort()).toEqual([a, c].sort());
    // b left the group, so it may join another; c joined, so it may not.
    await insertGroup(user, b, d);
    await expectRefused(insertGroup(user, c, (await newDongle(user))), { code: UNIQUE, constraint: 'dongle_group_members_dongle_id_key' });
  });

  it('frees both dongles when the group is deleted', async () => {
    const user = await insertUser();
    const [a, b] = [await newDongle(user), await newDongle(user)];
    const group = (await insertGroup(user, a, b)).rows[0]!.id;
    await pool.query('DELETE FROM dongle_groups WHERE id = $1', [group]);
    await insertGroup(user, b, a);
  });
});

describe('dongles', () => {
  it.each([
    ['uppercase hex', 'ABCDEF0123456789'],
    ['15 characters', '0123456789abcde'],
    ['a non-hex character', '0123456789abcdeg'],
  ])('refuses a device_id with %s', async (_label, deviceId) => {
    await expectRefused(insertDongle(null, 'UNCLAIMED', deviceId), { code: CHECK, constraint: 'dongles_device_id_format' });
  });

  it('refuses an unclaimed dongle with an owner', async () => {
    const user = await insertUser();
    await expectRefused(insertDongle(user, 'UNCLAIMED'), { code: CHECK, constraint: 'dongles_owner_matches_state' });
  });

  it.each(['CLAIM_PENDING', 'CLAIMED_ACTIVE', 'RELEASE_PENDING'])('refuses a %s dongle without an owner', async (state) => {
    await expectRefused(insertDongle(null, state), { code: CHECK, constraint: 'dongles_owner_matches_state' });
  });

  it('refuses a second token row for one dongle', async () => {
    const dongle = await newDongle(await insertUser());
    const insertToken = () =>
      pool.query(`INSERT INTO dongle_tokens (dongle_id, key_version, nonce, ciphertext, auth_tag) VALUES ($1, 1, $2, $2, $2)`, [dongle, randomBytes(12)]);
    await insertToken();
    await expectRefused(insertToken(), { code: UNIQUE, constraint: 'dongle_tokens_dongle_id_key' });
  });
});

describe('token hashes', () => {
  it('refuses a duplicate agent token hash', async () => {
    const agent = await insertAgent(await insertUser());
    const hash = hex(32);
    const insert = () => pool.query('INSERT INTO agent_tokens (agent_id, token_hash) VALUES ($1, $2)', [agent, hash]);
    await insert();
    await expectRefused(insert(), { code: UNIQUE, constraint: 'agent_tokens_token_hash_key' });
  });

  it.each([
    ['email_verification_tokens', 'email_verification_tokens_token_hash_key'],
    ['password_reset_tokens', 'password_reset_tokens_token_hash_key'],
  ])('refuses a duplicate token hash in %s', async (table, constraint) => {
    const hash = hex(32);
    const insert = async () =>
      pool.query(`INSERT INTO ${table} (user_id, token_hash, expires_at) VALUES ($1, $2, now() + interval '1 hour')`, [await insertUser(), hash]);
    await insert();
    await expectRefused(insert(), { code: UNIQUE, constraint });
  });
});

describe('audit_logs is append-only', () => {
  it('refuses UPDATE', async () => {
    const id = await insertAudit();
    await expectRefused(pool.query(`UPDATE audit_logs SET action = 'rewritten' WHERE id = $1`, [id]), { code: INSUFFICIENT_PRIVILEGE, message: /append-only: UPDATE/ });
  });

  it('refuses DELETE', async () => {
    const id = await insertAudit();
    await expectRefused(pool.query('DELETE FROM audit_logs WHERE id = $1', [id]), { code: INSUFFICIENT_PRIVILEGE, message: /append-only: DELETE/ });
    expect(await auditExists(id)).toBe(true);
  });

  it('refuses TRUNCATE', async () => {
    // Inside a transaction that is rolled back whatever happens: were the trigger missing,
    // the shared table must still survive this test.
    await inRolledBackTransaction((client) =>
      expectRefused(client.query('TRUNCATE audit_logs'), { code: INSUFFICIENT_PRIVILEGE, message: /append-only: TRUNCATE/ }),
    );
  });

  it('allows DELETE only inside a transaction that set fleet.audit_prune', async () => {
    const [pruned, kept] = [await insertAudit(), await insertAudit()];
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(`SET LOCAL fleet.audit_prune = 'on'`);
      await client.query('DELETE FROM audit_logs WHERE id = $1', [pruned]);
      await client.query('COMMIT');
      // SET LOCAL ended with that transaction: the same connection is refused again.
      await expectRefused(client.query('DELETE FROM audit_logs WHERE id = $1', [kept]), { code: INSUFFICIENT_PRIVILEGE });
    } finally {
      client.release();
    }
    expect(await auditExists(pruned)).toBe(false);
    expect(await auditExists(kept)).toBe(true);
  });
});

describe('users', () => {
  it('deletes a user\'s sessions with the user', async () => {
    const user = await insertUser();
    const sid = hex(16);
    await pool.query(`INSERT INTO sessions (sid, sess, expire, user_id) VALUES ($1, '{}', now() + interval '1 hour', $2)`, [sid, user]);
    await pool.query('DELETE FROM users WHERE id = $1', [user]);
    expect((await pool.query('SELECT 1 FROM sessions WHERE sid = $1', [sid])).rowCount).toBe(0);
  });
});

describe('defaults for seed 004', () => {
  /** The columns each INSERT of seed 004's setup block sets, by table. */
  function columnsSetBySeed(): Map<string, string[]> {
    const sets = new Map<string, string[]>();
    for (const match of readFixture('setup').matchAll(/INSERT INTO (\w+) \(([^)]*)\)/g)) {
      sets.set(match[1]!, match[2]!.split(',').map((c) => c.trim()));
    }
    return sets;
  }

  it('gives a default to every NOT NULL column the seed does not set', async () => {
    const sets = columnsSetBySeed();
    expect([...sets.keys()].sort()).toEqual(['dongle_groups', 'dongles', 'users']);
    const { rows } = await pool.query<{ table_name: string; column_name: string }>(
      `SELECT table_name, column_name FROM information_schema.columns
        WHERE table_schema = 'public' AND table_name = ANY($1) AND is_nullable = 'NO' AND column_default IS NULL`,
      [[...sets.keys()]],
    );
    // Filled by a BEFORE INSERT trigger instead of a default (raw-sql block
    // organizations_default_from_owner: the owner's personal organization); seed-004.test.ts
    // runs the seed's SQL itself and proves the insert works.
    const filledByTrigger = ['dongle_groups.organization_id'];
    const missing = rows
      .filter((r) => !sets.get(r.table_name)!.includes(r.column_name))
      .map((r) => `${r.table_name}.${r.column_name}`)
      .filter((column) => !filledByTrigger.includes(column));
    expect(missing).toEqual([]);
  });
});
