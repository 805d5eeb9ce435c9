import type { DongleView } from './dongles.schemas.ts';

/** What presentDongle needs; load it with `dongleViewInclude`. */
export interface DongleRow {
  id: string;
  deviceId: string;
  name: string | null;
  ownershipState: DongleView['state'];
  firmwareVersion: string | null;
  chipFamily: string | null;
  boardRevision: string | null;
  tags: unknown;
  lastSeenAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
  lastSeenAgent: { id: string; organizationId: string } | null;
  membership: { groupId: string } | null;
  canConfig: { version: number; appliedVersion: number } | null;
}

export const dongleViewInclude = {
  lastSeenAgent: { select: { id: true, organizationId: true } },
  membership: { select: { groupId: true } },
  canConfig: { select: { version: true, appliedVersion: true } },
} as const;

/**
 * The only shape a dongle leaves the API in. Never its owner, token or another organization's
 * agent: lastSeenAgentId is shown only when the reporting agent is of the viewing organization.
 */
export function presentDongle(dongle: DongleRow, viewerOrgId: string): DongleView {
  return {
    id: dongle.id,
    deviceId: dongle.deviceId,
    name: dongle.name,
    state: dongle.ownershipState,
    firmwareVersion: dongle.firmwareVersion,
    chipFamily: dongle.chipFamily,
    boardRevision: dongle.boardRevision,
    tags: (dongle.tags ?? {}) as Record<string, string>,
    lastSeenAt: dongle.lastSeenAt?.toISOString() ?? null,
    lastSeenAgentId: dongle.lastSeenAgent && dongle.lastSeenAgent.organizationId === viewerOrgId ? dongle.lastSeenAgent.id : null,
    groupId: dongle.membership?.groupId ?? null,
    canConfigVersion: dongle.canConfig?.version ?? 0,
    canConfigAppliedVersion: dongle.canConfig?.appliedVersion ?? 0,
    createdAt: dongle.createdAt.toISOString(),
    updatedAt: dongle.updatedAt.toISOString(),
  };
}
