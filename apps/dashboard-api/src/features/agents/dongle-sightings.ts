// What an agent's heartbeat says about dongles: "I can reach these". Unknown dongles are created
// UNCLAIMED, up to a quota per agent (QUOTA_UNCLAIMED_DONGLES_PER_AGENT: unclaimed dongles whose
// last report came from it), and audited as one `dongle.discover` row per heartbeat listing the
// new device ids (a heartbeat carries at most 64), not one row each; known ones get last_seen_at/_agent_id and firmware, but
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
//
// Lives with the agents (the heartbeat is its one caller): it reads the dongles' rules and wakes
// the agent's command polls, and neither dongles nor commands import agents.
import { Prisma } from '../../generated/prisma/client.ts';
import type { Database } from '../../platform/database.ts';
import { recordAudit, type RequestContext } from '../../platform/audit/audit-writer.ts';
import { recordEvent } from '../../platform/events/event-writer.ts';
import type { AgentPrincipal } from '../auth/principal.ts';
import { COMMANDS_CHANNEL, workFor } from '../commands/command-queue.ts';
import { COMMANDABLE_STATE_SQL, reportedRecentlySql } from '../dongles/dongle-state.ts';


export interface ReportedDongle {
  deviceId: string;
  firmwareVersion: string | null;
  chipFamily?: string | null;
  boardRevision?: string | null;
}

export type OwnedState = 'CLAIM_PENDING' | 'CLAIMED_ACTIVE' | 'RELEASE_PENDING';

export interface Sightings {
  /** Reported dongles owned by the agent's user, with their state. */
  owned: Array<{ deviceId: string; state: OwnedState }>;
  /** Unknown device ids not put on record because the agent's discovery quota is used up. */
  ignored: number;
}

export async function recordDongleSightings(
  prisma: Database['prisma'],
  agent: AgentPrincipal,
  reported: ReportedDongle[],
  options: { throttleMs: number; unclaimedLimit: number; context: RequestContext },
): Promise<Sightings> {
  // One row per device (the last report wins), in a fixed order so that two agents reporting
  // overlapping sets lock rows in the same order and cannot deadlock.
  const unique = [...new Map(reported.map((d) => [d.deviceId, d])).values()].sort((a, b) => a.deviceId.localeCompare(b.deviceId));
  if (unique.length === 0) return { owned: [], ignored: 0 };
  const deviceIds = unique.map((d) => d.deviceId);
  const firmware = unique.map((d) => d.firmwareVersion);
  const chips = unique.map((d) => d.chipFamily ?? null);
  const boards = unique.map((d) => d.boardRevision ?? null);

  return prisma.$transaction(async (tx) => {
    // One statement: the quota is only counted when something unknown was reported (`room` has
    // no row otherwise, and LIMIT NULL is no limit over an empty `fresh`). Two heartbeats of one
    // agent at once may each fill the room: the bound can be passed by one heartbeat (64).
    const [discovery] = await tx.$queryRaw<Array<{ unknown: number; ids: string[] | null; device_ids: string[] | null }>>`
      WITH fresh AS (
        SELECT r.device_id, r.firmware_version, r.chip_family, r.board_revision
          FROM unnest(${deviceIds}::text[], ${firmware}::text[], ${chips}::text[], ${boards}::text[]) AS r(device_id, firmware_version, chip_family, board_revision)
         WHERE NOT EXISTS (SELECT 1 FROM dongles d WHERE d.device_id = r.device_id)
      ), room AS (
        SELECT GREATEST(0, ${options.unclaimedLimit}::int - (SELECT count(*)::int FROM dongles WHERE last_seen_agent_id = ${agent.id}::uuid AND owner_user_id IS NULL)) AS n
         WHERE EXISTS (SELECT 1 FROM fresh)
      ), inserted AS (
        INSERT INTO dongles (device_id, firmware_version, chip_family, board_revision, last_seen_at, last_seen_agent_id)
        SELECT fresh.device_id, fresh.firmware_version, fresh.chip_family, fresh.board_revision, now(), ${agent.id}::uuid
          FROM fresh
         ORDER BY fresh.device_id
         LIMIT (SELECT n FROM room)
        ON CONFLICT (device_id) DO NOTHING
        RETURNING id::text AS id, device_id
      )
      SELECT (SELECT count(*)::int FROM fresh) AS unknown, array_agg(id ORDER BY device_id) AS ids, array_agg(device_id ORDER BY device_id) AS device_ids
        FROM inserted`;
    const insertedIds = discovery?.ids ?? [];
    const insertedDeviceIds = discovery?.device_ids ?? [];
    // Rows just inserted fail the throttle conditions (same agent, last_seen_at = now()), so
    // they are not written twice. The locking sub-select takes the row locks in device_id order
    // (no deadlock between agents reporting overlapping sets) and only on rows it will update.
    // `reachable`: an active dongle of the agent's organization that this report makes claimable by
    // this agent (it moved here, or its last report was outside the hand-out's 5 minutes).
    const [sighted] = await tx.$queryRaw<Array<{ reachable: boolean }>>`
      WITH due AS (
        SELECT d.id, r.firmware_version, r.chip_family, r.board_revision,
               (d.organization_id = ${agent.organizationId}::uuid AND d.ownership_state = ${Prisma.raw(COMMANDABLE_STATE_SQL)}
                AND (d.last_seen_agent_id IS DISTINCT FROM ${agent.id}::uuid OR d.last_seen_at IS NULL
                     OR NOT ${Prisma.raw(reportedRecentlySql('d'))})) AS reachable
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
      ), updated AS (
        UPDATE dongles d SET
          last_seen_at = now(),
          last_seen_agent_id = ${agent.id}::uuid,
          firmware_version = COALESCE(due.firmware_version, d.firmware_version),
          chip_family = COALESCE(due.chip_family, d.chip_family),
          board_revision = COALESCE(due.board_revision, d.board_revision)
        FROM due
        WHERE d.id = due.id
        RETURNING due.reachable
      )
      SELECT COALESCE(bool_or(reachable), false) AS reachable FROM updated`;
    // Commands queued while another agent (or none) reported the dongle are this agent's now:
    // wake its waiting polls rather than leave them to their next round.
    if (sighted?.reachable) await tx.$executeRaw`SELECT pg_notify(${COMMANDS_CHANNEL}, ${workFor(agent.id)})`;
    const ignored = Math.max(0, (discovery?.unknown ?? 0) - insertedIds.length);
    if (insertedIds.length > 0 || ignored > 0) {
      await recordAudit(tx, {
        actor: { type: 'agent', id: agent.id },
        action: 'dongle.discover',
        targetType: 'agent',
        targetId: agent.id,
        result: ignored > 0 ? 'denied' : 'success',
        details: { count: insertedIds.length, deviceIds: insertedDeviceIds, dongleIds: insertedIds, ignored },
        context: options.context,
      });
    }
    // A new dongle is news to the organization whose agent saw it first.
    for (const [index, dongleId] of insertedIds.entries()) {
      await recordEvent(tx, { organizationId: agent.organizationId, type: 'dongle.discovered', subjectId: dongleId, data: { deviceId: insertedDeviceIds[index], agentId: agent.id } });
    }
    // Only its organization's dongles: whether another organization owns one is not its business.
    const owned = await tx.dongle.findMany({
      where: { deviceId: { in: deviceIds }, organizationId: agent.organizationId },
      select: { deviceId: true, ownershipState: true },
      orderBy: { deviceId: 'asc' },
    });
    return { owned: owned.map((d) => ({ deviceId: d.deviceId, state: d.ownershipState as OwnedState })), ignored };
  });
}

