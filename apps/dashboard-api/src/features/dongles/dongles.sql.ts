// The dongle feature's statements on the bare pg pool. The operator's dongle list is the
// dashboard's busiest read: as five Prisma round-trips (page of ids, rows, agents, group
// members, CAN configs) it spent most of its time in Prisma's per-query CPU
// (bench/dongle-list.bench.ts), so it is one keyset query here, imported by the service and by
// the benches (bench/baseline/server.ts, bench/jobs.bench.ts).
import type { Dongle } from '../../generated/prisma/client.ts';
import { keysetSql } from '../../platform/pagination.ts';
import { statement, type Statement } from '../../platform/database.ts';
import { selectorSql, type SelectorTerm } from './tag-selector.ts';
import { reportedRecentlySql, stateSql } from './dongle-state.ts';

/** One row of the list: the dongle's fields, its keyset key `k`, and its agent, group and CAN config. */
export type DongleListRow = Pick<
  Dongle,
  'id' | 'deviceId' | 'name' | 'ownershipState' | 'firmwareVersion' | 'chipFamily' | 'boardRevision' | 'tags' | 'lastSeenAt' | 'createdAt' | 'updatedAt'
> & {
  k: string;
  agentId: string | null;
  agentOrgId: string | null;
  groupId: string | null;
  canVersion: number | null;
  canAppliedVersion: number | null;
};

/** The organization, the cursor's created_at and id (or nulls), the page size + 1; a selector's values follow. */
type ListParams = [organizationId: string, afterCreatedAt: string | null, afterId: string | null, limit: number, ...selector: unknown[]];

const listSql = (selector: string) => `
  SELECT d.id::text AS id, d.device_id AS "deviceId", d.name, d.ownership_state::text AS "ownershipState",
         d.firmware_version AS "firmwareVersion", d.chip_family AS "chipFamily", d.board_revision AS "boardRevision",
         d.tags, d.last_seen_at AS "lastSeenAt",
         d.created_at AS "createdAt", d.updated_at AS "updatedAt", d.created_at::text AS k,
         a.id::text AS "agentId", a.organization_id::text AS "agentOrgId",
         m.group_id::text AS "groupId", c.version AS "canVersion", c.applied_version AS "canAppliedVersion"
    FROM dongles d
    LEFT JOIN agents a ON a.id = d.last_seen_agent_id
    LEFT JOIN dongle_group_members m ON m.dongle_id = d.id
    LEFT JOIN can_configs c ON c.dongle_id = d.id
   WHERE d.organization_id = $1::uuid
     AND ($2::timestamptz IS NULL OR ${keysetSql('$2', '$3', { createdAt: 'd.created_at', id: 'd.id' })})
     AND ${selector}
   ORDER BY d.created_at DESC, d.id DESC
   LIMIT $4`;

/** A page of the organization's dongles, newest first. */
export const DONGLE_LIST = statement<ListParams, DongleListRow>(listSql('TRUE'), 'dongle-list-page-org');

/**
 * The list filtered by a tag selector, whose values follow as $5…: not a named statement, its
 * text varies with the terms. Returns the statement and the selector's values.
 */
export function dongleListFiltered(terms: SelectorTerm[]): { statement: Statement<ListParams, DongleListRow>; params: unknown[] } {
  const compiled = selectorSql(terms, 'd', 5);
  return { statement: statement(listSql(compiled.sql)), params: compiled.params };
}

export const DISCOVERED_LIMIT = 200;

/** Unclaimed dongles the organization's live agents reported within the possession window (the claim list). */
export const DISCOVERED = statement<[organizationId: string, limit: number], { deviceId: string; firmwareVersion: string | null; lastSeenAt: Date; agentId: string; agentName: string }>(
  `SELECT d.device_id AS "deviceId", d.firmware_version AS "firmwareVersion", d.last_seen_at AS "lastSeenAt",
            a.id::text AS "agentId", a.name AS "agentName"
       FROM dongles d
       JOIN agents a ON a.id = d.last_seen_agent_id
      WHERE d.ownership_state IN (${stateSql('claim').from}) AND a.organization_id = $1::uuid AND a.revoked_at IS NULL
        AND ${reportedRecentlySql('d')}
      ORDER BY d.last_seen_at DESC, d.device_id
      LIMIT $2`,
);
