// The operator's dongle list in one keyset query. It is the dashboard's busiest read, and as five
// Prisma round-trips (page of ids, rows, agents, group members, CAN configs) it spent most of its
// time in Prisma's per-query CPU (bench/dongle-list.bench.ts). Same rows, same order, same view.
import type pg from 'pg';
import { decodeCursor, keysetSql, toPage, type Page } from '../../platform/pagination.ts';
import { presentDongle, type DongleRow } from './dongles.presenter.ts';
import { selectorSql, type SelectorTerm } from './tag-selector.ts';
import type { DongleListQuery, DongleView } from './dongles.schemas.ts';

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

export const DONGLE_LIST_SQL = listSql('TRUE');

/** The list filtered by a selector ($5…): not a named statement, its text varies with the terms. */
export function dongleListSql(terms: SelectorTerm[]): { text: string; params: unknown[] } {
  const compiled = selectorSql(terms, 'd', 5);
  return { text: listSql(compiled.sql), params: compiled.params };
}

interface ListRow extends Omit<DongleRow, 'lastSeenAgent' | 'membership' | 'canConfig'> {
  k: string;
  agentId: string | null;
  agentOrgId: string | null;
  groupId: string | null;
  canVersion: number | null;
  canAppliedVersion: number | null;
}

export async function listOrgDongles(pool: pg.Pool, organizationId: string, query: DongleListQuery): Promise<Page<DongleView>> {
  const after = query.cursor ? decodeCursor(query.cursor) : undefined;
  const values = [organizationId, after?.createdAt ?? null, after?.id ?? null, query.limit + 1];
  const filtered = query.selector ? dongleListSql(query.selector.terms) : undefined;
  const { rows } = await pool.query<ListRow>(
    filtered ? { text: filtered.text, values: [...values, ...filtered.params] } : { name: 'dongle-list-page-org', text: DONGLE_LIST_SQL, values },
  );
  // Fields are copied one by one, not spread: spreading pg's row objects measured about twice
  // the CPU of this whole mapping (bench/dongle-list with BENCH_CPU_PROF).
  return toPage(rows, query.limit, (row) =>
    presentDongle(
      {
        id: row.id,
        deviceId: row.deviceId,
        name: row.name,
        ownershipState: row.ownershipState,
        firmwareVersion: row.firmwareVersion,
        chipFamily: row.chipFamily,
        boardRevision: row.boardRevision,
        tags: row.tags,
        lastSeenAt: row.lastSeenAt,
        createdAt: row.createdAt,
        updatedAt: row.updatedAt,
        lastSeenAgent: row.agentId ? { id: row.agentId, organizationId: row.agentOrgId! } : null,
        membership: row.groupId ? { groupId: row.groupId } : null,
        canConfig: row.canVersion === null ? null : { version: row.canVersion, appliedVersion: row.canAppliedVersion! },
      },
      organizationId,
    ),
  );
}
