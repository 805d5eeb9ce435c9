// Retention deletes old events in batches and remembers how far it got, so a stream resumed from
// a deleted id is told to resync instead of silently missing events.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { createTestOrganization } from '../../../test/support/organizations.ts';
import { connectDatabase, type Database } from '../../platform/database.ts';
import { createLogger } from '../../platform/logger.ts';
import { pruneEvents } from './event-retention.ts';
import { recordEvent } from '../../platform/events/event-writer.ts';

describe('event retention', () => {
  let db: Database;
  beforeAll(() => {
    db = connectDatabase({ url: inject('databaseUrl'), poolMax: 3, logger: createLogger({ level: 'silent' }) });
  });
  afterAll(() => db.close());

  it('deletes events older than the retention in batches and records the highest deleted id', async () => {
    const org = await createTestOrganization(db);
    const ids: bigint[] = [];
    for (let i = 0; i < 7; i++) ids.push(await db.prisma.$transaction((tx) => recordEvent(tx, { organizationId: org, type: 'agent.online', subjectId: randomUUID() })));
    // The first five are 40 days old; the retention is 30 days.
    await db.pool.query(`UPDATE events SET created_at = now() - interval '40 days' WHERE id = ANY($1::bigint[])`, [ids.slice(0, 5).map(String)]);
    const pruned = await pruneEvents(db, 30 * 86_400_000, 2);
    expect(pruned).toBeGreaterThanOrEqual(5);
    const { rows } = await db.pool.query<{ id: string }>('SELECT id::text FROM events WHERE organization_id = $1 ORDER BY id', [org]);
    expect(rows.map((r) => r.id)).toEqual(ids.slice(5).map(String));
    const mark = await db.pool.query<{ id: string }>('SELECT pruned_through::text AS id FROM event_retention_mark WHERE id = 1');
    expect(BigInt(mark.rows[0]!.id)).toBeGreaterThanOrEqual(ids[4]!);
    expect(BigInt(mark.rows[0]!.id)).toBeLessThan(ids[5]!);
  });
});
