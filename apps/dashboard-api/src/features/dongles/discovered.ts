// "Devices my agents can see that nobody owns yet": the dashboard's claim list. Exactly the rows
// a claim would accept now (UNCLAIMED, last reported by a live agent of the organization within the
// possession window), so a click on one of them succeeds unless someone else was faster.
import { z } from 'zod';
import type { ApiRouter } from '../../platform/http/api-router.ts';
import { run, type Database } from '../../platform/database.ts';
import { currentScope } from '../organizations/org-scope.ts';
import { DISCOVERED, DISCOVERED_LIMIT } from './dongles.sql.ts';

export const discoveredDongleView = z.object({
  deviceId: z.string(),
  firmwareVersion: z.string().nullable(),
  lastSeenAt: z.iso.datetime(),
  agentId: z.uuid(),
  agentName: z.string(),
});
export const discoveredList = z.object({ items: z.array(discoveredDongleView) });
export type DiscoveredDongle = z.infer<typeof discoveredDongleView>;

export async function listDiscovered(db: Database, organizationId: string): Promise<DiscoveredDongle[]> {
  const rows = await run(db.pool, DISCOVERED, [organizationId, DISCOVERED_LIMIT]);
  return rows.map((row) => ({ ...row, lastSeenAt: row.lastSeenAt.toISOString() }));
}

/** GET /api/dongles/discovered; mounted before /api/dongles/:id so the word is not read as an id. */
export function mountDiscoveredRoutes(api: ApiRouter, deps: { db: Database }) {
  api.get(
    '/discovered',
    {
      summary: 'Unclaimed dongles the organization\'s agents reported in the last 5 minutes (the ones I can claim now), latest first',
      description: `At most ${DISCOVERED_LIMIT}. Never lists a dongle someone owns, nor one only another organization\'s agents report.`,
      tags: ['dongles'],
      auth: 'session',
      permission: 'fleet.read',
      responses: { 200: { description: 'Claimable dongles', schema: discoveredList } },
    },
    async (_req, res) => {
      res.json({ items: await listDiscovered(deps.db, currentScope(res).orgId) });
    },
  );
}
