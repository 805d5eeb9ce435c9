// A claim that is never completed lapses. Between claim and token ack a dongle is CLAIM_PENDING
// and nobody else can claim it; without a deadline, an agent that reported someone else's device
// id (dongles cannot prove who holds them) or an agent that vanished mid-exchange would block the
// dongle until an admin force-released it. After CLAIM_PENDING_TIMEOUT_MINUTES in that state it
// returns to UNCLAIMED, any token issued for it is destroyed, any command still queued for it is
// cancelled (the commands feature's cancel, handed in: ownership-end.ts), and the lapse is
// audited — all in one transaction. Safe on several instances: rows are taken with SKIP LOCKED
// and re-checked.
import { sql, type Database } from '../../platform/database.ts';
import { periodicWorker, type BackgroundWorker } from '../../platform/lifecycle.ts';
import type { Logger } from '../../platform/logger.ts';
import { recordAudit } from '../../platform/audit/audit-writer.ts';
import { recordEvents } from '../../platform/events/event-writer.ts';
import { stateSql, TRANSITIONS } from './dongle-state.ts';
import type { CancelCommands } from './ownership-end.ts';

const BATCH = 200;
const LAPSE = stateSql('claim_lapse');
const { from: [FROM], to: TO } = TRANSITIONS.claim_lapse;

const LAPSE_SQL = `
WITH lapsed AS (
  SELECT id, owner_user_id, organization_id FROM dongles
   WHERE ownership_state IN (${LAPSE.from}) AND state_changed_at <= now() - make_interval(secs => $1::float8)
   ORDER BY state_changed_at
   LIMIT ${BATCH}
   FOR UPDATE SKIP LOCKED)
UPDATE dongles d
   SET ownership_state = ${LAPSE.to}, owner_user_id = NULL, name = NULL, updated_at = now()
  FROM lapsed
 WHERE d.id = lapsed.id AND d.ownership_state IN (${LAPSE.from})
RETURNING d.id::text AS id, d.device_id AS "deviceId", lapsed.owner_user_id::text AS "ownerUserId", lapsed.organization_id::text AS "organizationId"`;

/** Lapses every claim pending longer than `timeoutMs`; returns how many. Exposed for tests. */
export async function lapseStaleClaims(db: Database, cancelCommands: CancelCommands, timeoutMs: number): Promise<number> {
  let total = 0;
  for (;;) {
    const lapsed = await db.prisma.$transaction(async (tx) => {
      const rows = await sql<{ id: string; deviceId: string; ownerUserId: string; organizationId: string | null }>(tx, LAPSE_SQL, [timeoutMs / 1000]);
      if (rows.length === 0) return rows;
      await tx.dongleToken.deleteMany({ where: { dongleId: { in: rows.map((r) => r.id) } } });
      await cancelCommands(tx, rows.map((r) => r.id), { actor: { type: 'system' }, reason: 'claim_lapsed' });
      for (const row of rows) {
        await recordAudit(tx, {
          actor: { type: 'system' },
          action: 'dongle.claim_lapse',
          targetType: 'dongle',
          targetId: row.id,
          details: { deviceId: row.deviceId, claimedBy: row.ownerUserId, from: FROM, to: TO, timeoutSeconds: timeoutMs / 1000 },
          organizationId: row.organizationId,
        });
      }
      await recordEvents(
        tx,
        rows.flatMap((row) =>
          row.organizationId
            ? [{ organizationId: row.organizationId, type: 'dongle.state_changed' as const, subjectId: row.id, data: { deviceId: row.deviceId, from: FROM, to: TO, reason: 'claim_lapsed' } }]
            : [],
        ),
      );
      return rows;
    });
    total += lapsed.length;
    if (lapsed.length < BATCH) return total;
  }
}

export function createClaimLapseWorker(options: { db: Database; logger: Logger; cancelCommands: CancelCommands; timeoutMs: number; intervalMs: number }): BackgroundWorker {
  return periodicWorker({
    name: 'claim-lapse',
    intervalMs: options.intervalMs,
    work: async () => {
      const lapsed = await lapseStaleClaims(options.db, options.cancelCommands, options.timeoutMs);
      if (lapsed > 0) options.logger.info({ lapsed }, 'pending claims lapsed');
    },
    logger: options.logger,
  });
}
