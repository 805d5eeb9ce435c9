// What an agent's heartbeat says about dongles: "I can reach these". Unknown dongles are created
// UNCLAIMED (and audited as discovered); known ones get last_seen_at/_agent_id and firmware, but
// only when they are nobody's or belong to the agent's organization: another organization's
// agent reporting my device id must not move my dongle's last_seen_agent_id (that would block my token exchange
// and command hand-out) nor its firmware_version. Like the agent row, a dongle row is only
// rewritten when something changed or its last_seen_at is older than the throttle, so steady
// heartbeats cost no dongle writes. last_seen_agent_id is the proof of possession that claims
// and token exchanges check.
//
// Two statements rather than one upsert: INSERT … ON CONFLICT DO NOTHING for new rows, then a
// plain UPDATE whose row locks are taken only on rows that pass its WHERE (ON CONFLICT DO
// UPDATE … WHERE would lock every conflicting row, including the throttled and foreign ones).
import type { Database } from '../../platform/database.ts';
import { recordAudit, type RequestContext } from '../audit/audit.writer.ts';
import { recordEvent } from '../events/event-writer.ts';
import type { AgentPrincipal } from '../auth/principal.ts';

export interface ReportedDongle {
  deviceId: string;
  firmwareVersion: string | null;
  chipFamily?: string | null;
  boardRevision?: string | null;
}

export type OwnedState = 'CLAIM_PENDING' | 'CLAIMED_ACTIVE' | 'RELEASE_PENDING';

export async function recordDongleSightings(
  prisma: Database['prisma'],
  agent: AgentPrincipal,
  reported: ReportedDongle[],
  options: { throttleMs: number; context: RequestContext },
): Promise<Array<{ deviceId: string; state: OwnedState }>> {
  // One row per device (the last report wins), in a fixed order so that two agents reporting
  // overlapping sets lock rows in the same order and cannot deadlock.
  const unique = [...new Map(reported.map((d) => [d.deviceId, d])).values()].sort((a, b) => a.deviceId.localeCompare(b.deviceId));
  if (unique.length === 0) return [];
  const deviceIds = unique.map((d) => d.deviceId);
  const firmware = unique.map((d) => d.firmwareVersion);
  const chips = unique.map((d) => d.chipFamily ?? null);
  const boards = unique.map((d) => d.boardRevision ?? null);

  return prisma.$transaction(async (tx) => {
    const inserted = await tx.$queryRaw<Array<{ id: string; device_id: string }>>`
      INSERT INTO dongles (device_id, firmware_version, chip_family, board_revision, last_seen_at, last_seen_agent_id)
      SELECT r.device_id, r.firmware_version, r.chip_family, r.board_revision, now(), ${agent.id}::uuid
      FROM unnest(${deviceIds}::text[], ${firmware}::text[], ${chips}::text[], ${boards}::text[]) AS r(device_id, firmware_version, chip_family, board_revision)
      ORDER BY r.device_id
      ON CONFLICT (device_id) DO NOTHING
      RETURNING id::text AS id, device_id`;
    // Rows just inserted fail the throttle conditions (same agent, last_seen_at = now()), so
    // they are not written twice. The locking sub-select takes the row locks in device_id order
    // (no deadlock between agents reporting overlapping sets) and only on rows it will update.
    await tx.$executeRaw`
      WITH due AS (
        SELECT d.id, r.firmware_version, r.chip_family, r.board_revision
        FROM dongles d
        JOIN unnest(${deviceIds}::text[], ${firmware}::text[], ${chips}::text[], ${boards}::text[]) AS r(device_id, firmware_version, chip_family, board_revision)
          ON r.device_id = d.device_id
        WHERE (d.organization_id IS NULL OR d.organization_id = ${agent.organizationId}::uuid)
          AND (d.last_seen_agent_id IS DISTINCT FROM ${agent.id}::uuid
               OR d.last_seen_at IS NULL
               OR d.last_seen_at < now() - make_interval(secs => ${options.throttleMs / 1000})
               OR (r.firmware_version IS NOT NULL AND d.firmware_version IS DISTINCT FROM r.firmware_version)
               OR (r.chip_family IS NOT NULL AND d.chip_family IS DISTINCT FROM r.chip_family)
               OR (r.board_revision IS NOT NULL AND d.board_revision IS DISTINCT FROM r.board_revision))
        ORDER BY d.device_id
        FOR UPDATE OF d
      )
      UPDATE dongles d SET
        last_seen_at = now(),
        last_seen_agent_id = ${agent.id}::uuid,
        firmware_version = COALESCE(due.firmware_version, d.firmware_version),
        chip_family = COALESCE(due.chip_family, d.chip_family),
        board_revision = COALESCE(due.board_revision, d.board_revision)
      FROM due
      WHERE d.id = due.id`;
    for (const row of inserted) {
      await recordAudit(tx, { actor: { type: 'agent', id: agent.id }, action: 'dongle.discover', targetType: 'dongle', targetId: row.id, details: { deviceId: row.device_id }, context: options.context });
    }
    // A new dongle is news to the organization whose agent saw it first.
    for (const row of inserted) {
      await recordEvent(tx, { organizationId: agent.organizationId, type: 'dongle.discovered', subjectId: row.id, data: { deviceId: row.device_id, agentId: agent.id } });
    }
    // Only its organization's dongles: whether another organization owns one is not its business.
    const owned = await tx.dongle.findMany({
      where: { deviceId: { in: deviceIds }, organizationId: agent.organizationId },
      select: { deviceId: true, ownershipState: true },
      orderBy: { deviceId: 'asc' },
    });
    return owned.map((d) => ({ deviceId: d.deviceId, state: d.ownershipState as OwnedState }));
  });
}

