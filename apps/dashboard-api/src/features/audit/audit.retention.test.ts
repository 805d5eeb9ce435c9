import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runAuditPrune } from '../../cli/audit-prune.ts';
import { connectDatabase, type Database } from '../../platform/database.ts';
import { createLogger } from '../../platform/logger.ts';
import { PruneRefused, pruneAuditLogs } from './audit.retention.ts';
import { insertAuditRows } from '../../../test/support/audit-rows.ts';

let db: Database;
beforeAll(() => {
  db = connectDatabase({ url: inject('databaseUrl'), poolMax: 3, logger: createLogger({ level: 'silent' }) });
});
afterAll(() => db.close());

describe('audit_logs is append-only', () => {
  let id: string;
  beforeAll(async () => {
    id = (await insertAuditRows(db.pool, [{ actorId: randomUUID(), action: 'test.append_only' }]))[0]!;
  });

  it('refuses UPDATE', async () => {
    await expect(db.pool.query(`UPDATE audit_logs SET action = 'tampered' WHERE id = $1`, [id])).rejects.toThrow(/append-only/);
    await expect(db.prisma.auditLog.update({ where: { id }, data: { result: 'failure' } })).rejects.toThrow();
  });

  it('refuses DELETE outside the prune command', async () => {
    await expect(db.pool.query('DELETE FROM audit_logs WHERE id = $1', [id])).rejects.toThrow(/append-only/);
    await expect(db.prisma.auditLog.delete({ where: { id } })).rejects.toThrow();
    // Only 'on' opens the door, and only for the transaction that set it.
    const client = await db.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(`SET LOCAL fleet.audit_prune = 'off'`);
      await expect(client.query('DELETE FROM audit_logs WHERE id = $1', [id])).rejects.toThrow(/append-only/);
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  });

  it('refuses TRUNCATE', async () => {
    const client = await db.pool.connect();
    try {
      await client.query('BEGIN'); // rolled back whatever happens
      await expect(client.query('TRUNCATE audit_logs')).rejects.toThrow(/append-only/);
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  });

  it('still has the row', async () => {
    expect((await db.pool.query('SELECT action FROM audit_logs WHERE id = $1', [id])).rows).toEqual([{ action: 'test.append_only' }]);
  });
});

describe('pruneAuditLogs', () => {
  // Rows from a random instant in 1990: older than anything any other test writes.
  const cutoff = new Date(Date.UTC(1990, 5, 1) + Math.floor(Math.random() * 86_400_000));
  const actor = randomUUID();
  const before = (ms: number) => new Date(cutoff.getTime() - ms).toISOString();

  beforeAll(async () => {
    await insertAuditRows(db.pool, [
      ...Array.from({ length: 10 }, (_, i) => ({ actorId: actor, action: 'test.old', createdAt: before(86_400_000 + i * 1000) })),
      { actorId: actor, action: 'test.old', createdAt: before(1) }, // one millisecond before the cutoff: deleted
      { actorId: actor, action: 'test.kept', createdAt: cutoff.toISOString() }, // at the cutoff: kept
    ]);
  });

  const ownRows = async () =>
    (await db.pool.query<{ action: string }>('SELECT action FROM audit_logs WHERE actor_id = $1 ORDER BY created_at', [actor])).rows.map((r) => r.action);

  it('refuses a date less than 30 days ago without --force, and any future date', async () => {
    await expect(pruneAuditLogs(db, { before: new Date(Date.now() - 86_400_000) })).rejects.toBeInstanceOf(PruneRefused);
    await expect(pruneAuditLogs(db, { before: new Date(Date.now() + 60_000), force: true })).rejects.toThrow(/future/);
    // --force accepts a recent date (a dry run here, so nothing of other tests is touched).
    const recent = await pruneAuditLogs(db, { before: new Date(Date.now() - 86_400_000), force: true, dryRun: true });
    expect(recent.dryRun).toBe(true);
  });

  it('counts without deleting in a dry run', async () => {
    const result = await pruneAuditLogs(db, { before: cutoff, dryRun: true });
    expect(result.deleted).toBeGreaterThanOrEqual(11);
    expect(await ownRows()).toHaveLength(12);
  });

  it('deletes rows older than the date in batches and leaves one audit.prune row', async () => {
    const expected = (await pruneAuditLogs(db, { before: cutoff, dryRun: true })).deleted;
    const result = await pruneAuditLogs(db, { before: cutoff, batchSize: 4 });
    expect(result).toEqual({ before: cutoff.toISOString(), dryRun: false, deleted: expected, batches: Math.floor(expected / 4) + 1 });
    expect(await ownRows()).toEqual(['test.kept']);

    const { rows } = await db.pool.query(
      `SELECT actor_type, actor_id, result, details FROM audit_logs WHERE action = 'audit.prune' AND details->>'before' = $1`,
      [cutoff.toISOString()],
    );
    expect(rows).toEqual([{ actor_type: 'system', actor_id: null, result: 'success', details: { before: cutoff.toISOString(), deleted: expected, batches: result.batches } }]);
    // Outside the command, deleting is refused again.
    await expect(db.pool.query(`DELETE FROM audit_logs WHERE actor_id = $1`, [actor])).rejects.toThrow(/append-only/);
  });
});

describe('npm run audit:prune', () => {
  const run = async (...argv: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runAuditPrune(argv, { db, io: { out: (line) => out.push(line), err: (line) => err.push(line) } });
    return { code, out: out.join('\n'), err: err.join('\n') };
  };

  it('needs a valid --before', async () => {
    expect(await run()).toMatchObject({ code: 2, err: expect.stringContaining('--before must be') });
    expect(await run('--before', 'last year')).toMatchObject({ code: 2 });
    expect(await run('--before', '1990-01-01', '--batch-size', '0')).toMatchObject({ code: 2 });
    expect(await run('--unknown')).toMatchObject({ code: 2, err: expect.stringContaining('usage') });
  });

  it('refuses a recent date unless --force', async () => {
    const recent = new Date(Date.now() - 86_400_000).toISOString();
    expect(await run('--before', recent, '--dry-run')).toMatchObject({ code: 2, err: expect.stringContaining('--force') });
    expect(await run('--before', recent, '--dry-run', '--force')).toMatchObject({ code: 0, out: expect.stringMatching(/^dry run: \d+ audit row\(s\)/) });
  });

  it('prints the count in a dry run and reads a zone-less date-time as UTC', async () => {
    const result = await run('--before', '1980-01-01T00:00:00', '--dry-run');
    expect(result).toMatchObject({ code: 0, out: 'dry run: 0 audit row(s) created before 1980-01-01T00:00:00.000Z would be deleted.' });
  });
});
