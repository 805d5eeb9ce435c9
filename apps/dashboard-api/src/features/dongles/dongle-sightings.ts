// What an agent's heartbeat says about dongles: "I can reach these". One upsert records every
// sighting: unknown dongles are created UNCLAIMED, known ones get last_seen_at/_agent_id and
// firmware. Like the agent row, a dongle row is only rewritten when something changed or its
// last_seen_at is older than the throttle, so steady heartbeats cost no dongle writes.
// last_seen_agent_id is the proof of possession that claims and token exchanges check.
import type { Database } from '../../platform/database.ts';
import { recordAudit, type RequestContext } from '../audit/audit.writer.ts';
import type { AgentPrincipal } from '../auth/principal.ts';

export interface ReportedDongle {
  deviceId: string;
  firmwareVersion: string | null;
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

  return prisma.$transaction(async (tx) => {
    const written = await tx.$queryRaw<Array<{ id: string; device_id: string; inserted: boolean }>>`
      INSERT INTO dongles (device_id, firmware_version, last_seen_at, last_seen_agent_id)
      SELECT r.device_id, r.firmware_version, now(), ${agent.id}::uuid
      FROM unnest(${deviceIds}::text[], ${firmware}::text[]) AS r(device_id, firmware_version)
      ORDER BY r.device_id
      ON CONFLICT (device_id) DO UPDATE SET
        last_seen_at = now(),
        last_seen_agent_id = EXCLUDED.last_seen_agent_id,
        firmware_version = COALESCE(EXCLUDED.firmware_version, dongles.firmware_version)
      WHERE dongles.last_seen_agent_id IS DISTINCT FROM EXCLUDED.last_seen_agent_id
         OR dongles.last_seen_at IS NULL
         OR dongles.last_seen_at < now() - make_interval(secs => ${options.throttleMs / 1000})
         OR (EXCLUDED.firmware_version IS NOT NULL AND dongles.firmware_version IS DISTINCT FROM EXCLUDED.firmware_version)
      RETURNING id::text AS id, device_id, (xmax = 0) AS inserted`;
    for (const row of written.filter((r) => r.inserted)) {
      await recordAudit(tx, { actor: { type: 'agent', id: agent.id }, action: 'dongle.discover', targetType: 'dongle', targetId: row.id, details: { deviceId: row.device_id }, context: options.context });
    }
    // Only the agent's own user's dongles: whether someone else owns one is not its business.
    const owned = await tx.dongle.findMany({
      where: { deviceId: { in: deviceIds }, ownerUserId: agent.userId },
      select: { deviceId: true, ownershipState: true },
      orderBy: { deviceId: 'asc' },
    });
    return owned.map((d) => ({ deviceId: d.deviceId, state: d.ownershipState as OwnedState }));
  });
}

