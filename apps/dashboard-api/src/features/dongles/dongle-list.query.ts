// The operator's dongle list in one keyset query (DONGLE_LIST in dongles.sql.ts: why it is raw
// SQL on the pool). Same rows, same order, same view as the Prisma version it replaced.
import type pg from 'pg';
import { run } from '../../platform/database.ts';
import { decodeCursor, toPage, type Page } from '../../platform/pagination.ts';
import { presentDongle } from './dongles.presenter.ts';
import type { DongleListQuery, DongleView } from './dongles.schemas.ts';
import { DONGLE_LIST, dongleListFiltered } from './dongles.sql.ts';

export async function listOrgDongles(pool: pg.Pool, organizationId: string, query: DongleListQuery): Promise<Page<DongleView>> {
  const after = query.cursor ? decodeCursor(query.cursor) : undefined;
  const page = [organizationId, after?.createdAt ?? null, after?.id ?? null, query.limit + 1] as const;
  const filtered = query.selector ? dongleListFiltered(query.selector.terms) : undefined;
  const rows = filtered ? await run(pool, filtered.statement, [...page, ...filtered.params]) : await run(pool, DONGLE_LIST, [...page]);
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
