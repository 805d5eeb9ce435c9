import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { connectDatabase, inPgTransaction, type Database } from '../database.ts';
import { createLogger } from '../logger.ts';
import { changes, recordAudit, recordAudits, scrubSecrets } from './audit-writer.ts';

describe('scrubSecrets', () => {
  it('drops secret-looking keys at any depth', () => {
    const scrubbed = scrubSecrets({
      email: 'a@example.test',
      password: 'p',
      newPassword: 'p',
      passwordHash: 'h',
      token_hash: 'h',
      codeHash: 'h',
      token: 't',
      refreshToken: 't',
      csrfToken: 't',
      secret: 's',
      clientSecret: 's',
      cookie: 'c',
      authorization: 'Bearer x',
      ciphertext: 'c',
      nonce: 'n',
      sid: 's',
      sessionId: 's',
      apiKey: 'k',
      private_key: 'k',
      key: 'k',
      code: '123456',
      enrollmentCode: 'abc',
      otp: '1',
      credentials: { user: 'u' },
      nested: { deeper: [{ password: 'p', kept: 1 }], signature: 'sig' },
    });
    expect(scrubbed).toEqual({ email: 'a@example.test', nested: { deeper: [{ kept: 1 }] } });
  });

  it('keeps ordinary fields that merely resemble secret names', () => {
    const details = { rehashed: true, errorCode: 'E1', keyVersion: 2, reason: 'invalid_credentials', role: { from: 'user', to: 'admin' } };
    expect(scrubSecrets(details)).toEqual(details);
  });

  it('redacts secret-looking values under innocent keys', () => {
    expect(
      scrubSecrets({ header: 'Bearer abc.def', basic: 'Basic dXNlcjpwYXNz', url: 'postgres://app:hunter2@db:5432/fleet', pem: '-----BEGIN RSA PRIVATE KEY-----\nMII' }),
    ).toEqual({ header: '[redacted]', basic: '[redacted]', url: 'postgres://app:[redacted]@db:5432/fleet', pem: '[redacted]' });
  });

  it('makes values JSON-safe: bigint, binary, cycles', () => {
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    expect(scrubSecrets({ big: 10n, raw: Buffer.from('secret'), cyclic })).toEqual({ big: '10', raw: '[binary]', cyclic: { name: 'loop', self: '[circular]' } });
  });
});

describe('changes', () => {
  it('lists changed fields with before and after, comparing dates and JSON by value', () => {
    const at = new Date('2026-01-01T00:00:00Z');
    const before = { name: 'a', seenAt: at, payload: { x: 1 }, note: null as string | null };
    expect(changes(before, { name: 'b', seenAt: new Date(at), payload: { x: 1 }, note: 'n' })).toEqual({ name: { from: 'a', to: 'b' }, note: { from: null, to: 'n' } });
    expect(changes(before, { name: 'a', seenAt: undefined })).toEqual({});
  });
});

describe('recordAudit', () => {
  let db: Database;
  beforeAll(() => {
    db = connectDatabase({ url: inject('databaseUrl'), poolMax: 2, logger: createLogger({ level: 'silent' }) });
  });
  afterAll(() => db.close());

  it('writes actor, action, target, ip, user agent, result and changed fields, without secrets', async () => {
    const actorId = randomUUID();
    const targetId = randomUUID();
    await recordAudit(db.prisma, {
      actor: { type: 'user', id: actorId },
      action: 'user.update',
      targetType: 'user',
      targetId,
      result: 'success',
      details: { reason: 'admin edit', token: 'must-not-be-stored' },
      changes: changes({ role: 'user', status: 'active', passwordHash: 'old' }, { role: 'admin', status: 'active', passwordHash: 'new' }),
      context: { ip: '192.0.2.1', userAgent: `ua/${'x'.repeat(600)}` },
    });
    const row = await db.prisma.auditLog.findFirstOrThrow({ where: { actorId, targetId } });
    expect(row).toMatchObject({ actorType: 'user', action: 'user.update', targetType: 'user', result: 'success', ip: '192.0.2.1' });
    expect(row.userAgent).toHaveLength(512);
    expect(row.details).toEqual({ reason: 'admin edit', changes: { role: { from: 'user', to: 'admin' } } });
    expect(JSON.stringify(row)).not.toMatch(/must-not-be-stored|"old"|"new"/);
  });

  it('records a system actor with no id', async () => {
    const targetId = randomUUID();
    await recordAudit(db.prisma, { actor: { type: 'system' }, action: 'audit.prune', targetType: 'job', targetId });
    expect(await db.prisma.auditLog.findFirstOrThrow({ where: { targetId } })).toMatchObject({ actorType: 'system', actorId: null, result: 'success', details: null });
  });

  it('writes the same row from a raw pg transaction as from Prisma: scrubbed, cut, with its organization', async () => {
    const organizationId = randomUUID();
    const event = (targetId: string) => ({
      actor: { type: 'agent' as const, id: randomUUID() },
      action: 'command.result' as const,
      targetType: 'command',
      targetId,
      details: { status: 'SUCCEEDED', secret: 'must-not-be-stored', url: 'postgres://u:pw@db/x' },
      context: { ip: '192.0.2.9', userAgent: 'a'.repeat(700), organizationId },
    });
    const [onPrisma, onPg] = [randomUUID(), randomUUID()];
    await db.prisma.$transaction((tx) => recordAudit(tx, event(onPrisma)));
    await inPgTransaction(db.pool, (client) => recordAudit(client, event(onPg)));
    const rows = await db.prisma.auditLog.findMany({ where: { targetId: { in: [onPrisma, onPg] } } });
    expect(rows).toHaveLength(2);
    for (const row of rows) {
      expect(row).toMatchObject({ organizationId, ip: '192.0.2.9', details: { status: 'SUCCEEDED', url: 'postgres://u:[redacted]@db/x' } });
      expect(row.userAgent).toHaveLength(512);
      expect(JSON.stringify(row)).not.toContain('must-not-be-stored');
    }
  });

  it('writes many rows in batches (recordAudits), each the row recordAudit would write', async () => {
    const organizationId = randomUUID();
    const targets = Array.from({ length: 1_002 }, () => randomUUID());
    await inPgTransaction(db.pool, (client) =>
      recordAudits(client, targets.map((targetId) => ({ actor: { type: 'system' as const }, action: 'command.cancel' as const, targetType: 'command', targetId, organizationId, details: { dongleId: targetId, type: 'PING', reason: 'job_cancelled', token: 'must-not-be-stored' } as never }))),
    );
    const rows = await db.prisma.auditLog.findMany({ where: { organizationId }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
    expect(rows.map((row) => row.targetId)).toEqual(targets);
    expect(rows[1_001]).toMatchObject({ actorType: 'system', action: 'command.cancel', result: 'success', details: { dongleId: targets[1_001], type: 'PING', reason: 'job_cancelled' } });
    expect(JSON.stringify(rows)).not.toContain('must-not-be-stored');
  });
});
