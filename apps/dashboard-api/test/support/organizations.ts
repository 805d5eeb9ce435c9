// A bare organization for tests of the event machinery (no members; the HTTP tests build teams
// with test/support/orgs.ts).
import type { Database } from '../../src/platform/database.ts';

export async function createTestOrganization(db: Database, name = 'events test'): Promise<string> {
  const { rows } = await db.pool.query<{ id: string }>('INSERT INTO organizations (name) VALUES ($1) RETURNING id::text', [name]);
  return rows[0]!.id;
}
