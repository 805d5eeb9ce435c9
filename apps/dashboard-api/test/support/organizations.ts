// An organization for tests that need one (events are scoped to organizations).
import { randomUUID } from 'node:crypto';
import type { Database } from '../../src/platform/database.ts';

export async function createTestOrganization(_db: Database): Promise<string> {
  return randomUUID();
}
