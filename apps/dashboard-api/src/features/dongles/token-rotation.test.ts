// Key rotation end to end: tokens sealed under key 1 still decrypt after key 2 becomes current;
// keys:rotate leaves none under key 1 and is idempotent; tampering is detected.
// keys:rotate works on every token in its database, so this file has a scratch database of its
// own: other test files' tokens (sealed under their own keys) are none of its business.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activeDongle, createOperator, heartbeat, randomKey } from '../../../test/support/fleet.ts';
import { createScratchDatabase, type ScratchDatabase } from '../../../test/support/scratch-database.ts';
import { startTestApp, type TestApp } from '../../../test/support/test-app.ts';
import { applyMigrations } from '../../tooling/migrator.ts';
import { runKeysRotate } from '../../cli/keys-rotate.ts';
import { keyRingFromSpec } from './token-crypto.ts';
import { rotateDongleTokens } from './token-rotation.ts';

const v1 = 1;
const v2 = 2;
const key1 = `${v1}:${randomKey()}`;
const key2 = `${v2}:${randomKey()}`;
const ring12 = keyRingFromSpec(`${key1},${key2}`);

let scratch: ScratchDatabase;
let old: TestApp; // knows only key 1
let rotated: TestApp; // key 2 current, key 1 still decrypts
beforeAll(async () => {
  scratch = await createScratchDatabase('keys_rotate');
  await applyMigrations(scratch.url);
  old = await startTestApp({ databaseUrl: scratch.url, config: { dongleTokenKeys: key1 } });
  rotated = await startTestApp({ databaseUrl: scratch.url, config: { dongleTokenKeys: `${key1},${key2}` } });
});
afterAll(async () => {
  await old?.stop();
  await rotated?.stop();
  await scratch?.drop();
});

const exchange = (app: TestApp, auth: string, deviceId: string) => app.http.post(`/api/agent/dongles/${deviceId}/token`).set('Authorization', auth);
const versionOf = async (app: TestApp, dongleId: string) => (await app.db.prisma.dongleToken.findUniqueOrThrow({ where: { dongleId } })).keyVersion;

describe('dongle token key rotation', () => {
  it('keeps key-1 tokens readable under a ring whose current key is 2, and rotate leaves none under key 1', async () => {
    const me = await createOperator(old);
    const sealedUnder1 = await Promise.all([activeDongle(old, me), activeDongle(old, me), activeDongle(old, me)]);
    for (const dongle of sealedUnder1) expect(await versionOf(old, dongle.id)).toBe(v1);

    // Key 2 is current now: old tokens still decrypt, new tokens are sealed under key 2.
    for (const dongle of sealedUnder1) {
      const res = await exchange(rotated, me.agentAuth, dongle.deviceId);
      expect(res.status).toBe(200);
      expect(res.body.token).toBe(dongle.token);
    }
    const fresh = await activeDongle(rotated, me);
    expect(await versionOf(rotated, fresh.id)).toBe(v2);

    const lines: string[] = [];
    const code = await runKeysRotate(['--batch-size', '2'], { db: rotated.db, keyRing: ring12, io: { out: (l) => lines.push(l), err: (l) => lines.push(l) } });
    expect(code, lines.join('\n')).toBe(0);
    expect(await rotated.db.prisma.dongleToken.count({ where: { keyVersion: v1 } })).toBe(0);
    for (const dongle of sealedUnder1) {
      expect(await versionOf(rotated, dongle.id)).toBe(v2);
      await heartbeat(rotated, me.agentAuth, [dongle.deviceId]);
      expect((await exchange(rotated, me.agentAuth, dongle.deviceId)).body.token).toBe(dongle.token);
    }
    const audit = await rotated.db.prisma.auditLog.findFirstOrThrow({ where: { action: 'dongle_tokens.rotate', details: { path: ['keyVersion'], equals: v2 } } });
    expect(audit.actorType).toBe('system');
    expect(audit.details).toMatchObject({ keyVersion: v2 });
    expect(audit.details).toMatchObject({ rotated: 3, failed: 0, batches: 2, remaining: 0 });
  });

  it('is idempotent: a second run re-encrypts nothing', async () => {
    const me = await createOperator(old);
    const dongle = await activeDongle(old, me);
    const first = await rotateDongleTokens(rotated.db, ring12, { batchSize: 50 });
    expect(first).toMatchObject({ rotated: 1, failed: 0, remaining: 0 });
    const before = await rotated.db.prisma.dongleToken.findUniqueOrThrow({ where: { dongleId: dongle.id } });
    const second = await rotateDongleTokens(rotated.db, ring12, { batchSize: 50 });
    expect(second).toMatchObject({ rotated: 0, failed: 0, batches: 0, remaining: 0 });
    const after = await rotated.db.prisma.dongleToken.findUniqueOrThrow({ where: { dongleId: dongle.id } });
    expect(Buffer.from(after.ciphertext)).toEqual(Buffer.from(before.ciphertext));
    expect(Buffer.from(after.nonce)).toEqual(Buffer.from(before.nonce));
    expect(after.keyVersion).toBe(v2);
  });

  it('is resumable: an interrupted run keeps its committed batches and the next run finishes', async () => {
    const me = await createOperator(old);
    await Promise.all([activeDongle(old, me), activeDongle(old, me), activeDongle(old, me)]);
    const interrupted = rotateDongleTokens(rotated.db, ring12, {
      batchSize: 1,
      onBatch: () => {
        throw new Error('killed after the first batch');
      },
    });
    await expect(interrupted).rejects.toThrow('killed');
    expect(await rotated.db.prisma.dongleToken.count({ where: { keyVersion: v1 } })).toBe(2);
    const resumed = await rotateDongleTokens(rotated.db, ring12, { batchSize: 1 });
    expect(resumed).toMatchObject({ rotated: 2, remaining: 0 });
  });

  it('exits 3 while a token row is locked by concurrent work, so the old key is not dropped early', async () => {
    const me = await createOperator(old);
    const dongle = await activeDongle(old, me);
    const holder = await rotated.db.pool.connect();
    const lines: string[] = [];
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM dongle_tokens WHERE dongle_id = $1 FOR UPDATE', [dongle.id]);
      const code = await runKeysRotate([], { db: rotated.db, keyRing: ring12, io: { out: (l) => lines.push(l), err: (l) => lines.push(l) } });
      expect(code, lines.join('\n')).toBe(3);
      expect(lines.join('\n')).toContain('1 token(s) still under older keys (locked by concurrent work); run again');
    } finally {
      await holder.query('ROLLBACK');
      holder.release();
    }
    expect(await versionOf(rotated, dongle.id)).toBe(v1);
    expect(await runKeysRotate([], { db: rotated.db, keyRing: ring12, io: { out: () => {}, err: () => {} } })).toBe(0);
    expect(await versionOf(rotated, dongle.id)).toBe(v2);
  });

  it('refuses a tampered ciphertext or tag: the exchange fails and rotation reports the dongle', async () => {
    const me = await createOperator(rotated);
    for (const column of ['ciphertext', 'authTag'] as const) {
      const dongle = await activeDongle(rotated, me);
      const row = await rotated.db.prisma.dongleToken.findUniqueOrThrow({ where: { dongleId: dongle.id } });
      const tampered = Uint8Array.from(row[column]);
      tampered[0] = tampered[0]! ^ 0x01;
      await rotated.db.prisma.dongleToken.update({ where: { id: row.id }, data: { [column]: tampered } });
      const res = await exchange(rotated, me.agentAuth, dongle.deviceId);
      expect(res.status).toBe(500);
      expect(res.body.error.code).toBe('dongle_token_unreadable');
      expect(JSON.stringify(res.body)).not.toContain(dongle.token);
    }
    // Sealed under key 1 and tampered: rotation cannot re-encrypt it and says which dongle.
    const oldOwner = await createOperator(old);
    const victim = await activeDongle(old, oldOwner);
    const row = await old.db.prisma.dongleToken.findUniqueOrThrow({ where: { dongleId: victim.id } });
    const tag = Uint8Array.from(row.authTag);
    tag[15] = tag[15]! ^ 0x80;
    await old.db.prisma.dongleToken.update({ where: { id: row.id }, data: { authTag: tag } });
    const lines: string[] = [];
    const code = await runKeysRotate([], { db: rotated.db, keyRing: ring12, io: { out: (l) => lines.push(l), err: (l) => lines.push(l) } });
    expect(code).toBe(1);
    expect(lines.join('\n')).toContain(victim.id);
    expect(await versionOf(rotated, victim.id)).toBe(v1);
  });

  it('answers bad arguments with exit code 2', async () => {
    const lines: string[] = [];
    expect(await runKeysRotate(['--batch-size', '0'], { db: rotated.db, keyRing: ring12, io: { out: (l) => lines.push(l), err: (l) => lines.push(l) } })).toBe(2);
  });
});
