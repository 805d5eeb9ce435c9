// A dongle's CAN configuration with optimistic concurrency: `version` is the If-Match value;
// every accepted PUT bumps it and queues an APPLY_CAN_CONFIG command in the same transaction.
// applied_version is raised by the commands feature when the agent reports success.
// No stored row means "the defaults, version 0": the first PUT sends If-Match: 0.
import type { CanConfig } from '../../generated/prisma/client.ts';
import type { Database } from '../../platform/database.ts';
import { notFound, preconditionFailed } from '../../platform/errors.ts';
import { changes, recordAudit, type RequestContext } from '../../platform/audit/audit-writer.ts';
import { recordEvent } from '../../platform/events/event-writer.ts';
import type { OrgScope } from '../organizations/org-scope.ts';
import { enqueueCommand } from '../commands/command-queue.ts';
import { lockOrgDongle } from '../dongles/dongle-lock.ts';
import { CAN_CONFIG_DEFAULTS, presentCanConfig, type StoredCanConfig } from './can-config.presenter.ts';
import type { CanConfigInput } from './can-config.schema.ts';
import type { CanConfigView } from './can-config.views.ts';
import { assertCommandable, COMMANDABLE_STATE } from '../dongles/dongle-state.ts';

export type CanConfigService = ReturnType<typeof createCanConfigService>;

/** The stored form of a validated PUT body: a full replacement, absent optionals become null. */
export function toStored(input: CanConfigInput): StoredCanConfig {
  return {
    mode: input.mode,
    nominalBitrate: input.nominalBitrate,
    nominalSamplePoint: input.nominalSamplePoint,
    nominalSjw: input.nominalSjw,
    clockHz: input.clockHz,
    nominalPrescaler: input.nominalPrescaler ?? null,
    nominalSeg1: input.nominalSeg1 ?? null,
    nominalSeg2: input.nominalSeg2 ?? null,
    fdEnabled: input.fdEnabled,
    dataBitrate: input.dataBitrate ?? null,
    dataSamplePoint: input.dataSamplePoint ?? null,
    dataSjw: input.dataSjw ?? null,
    dataPrescaler: input.dataPrescaler ?? null,
    dataSeg1: input.dataSeg1 ?? null,
    dataSeg2: input.dataSeg2 ?? null,
    termination: input.termination,
    autoRetransmit: input.autoRetransmit,
  };
}

function storedPart(row: CanConfig): StoredCanConfig {
  const { id: _id, dongleId: _dongleId, version: _version, appliedVersion: _applied, createdAt: _created, updatedAt: _updated, ...stored } = row;
  return stored;
}

export function createCanConfigService(deps: { db: Database }) {
  const { prisma } = deps.db;

  return {
    async get(scope: OrgScope, dongleId: string): Promise<CanConfigView> {
      const dongle = await prisma.dongle.findFirst({ where: { id: dongleId, organizationId: scope.orgId }, select: { id: true, canConfig: true } });
      if (!dongle) throw notFound('Dongle');
      return presentCanConfig(dongle.id, dongle.canConfig);
    },

    async put(scope: OrgScope, dongleId: string, expectedVersion: number, input: CanConfigInput, context: RequestContext) {
      const user = { id: scope.userId };
      return prisma.$transaction(async (tx) => {
        // The dongle lock serialises PUTs on one dongle, so the version check below cannot race.
        const dongle = await lockOrgDongle(tx, scope.orgId, { id: dongleId });
        assertCommandable(dongle.state, `A CAN configuration can only be set on a dongle in ${COMMANDABLE_STATE}.`);
        const current = await tx.canConfig.findUnique({ where: { dongleId } });
        const currentVersion = current?.version ?? 0;
        if (expectedVersion !== currentVersion) {
          throw preconditionFailed(`If-Match ${expectedVersion} does not match the current version ${currentVersion}; GET it again and retry.`);
        }
        const stored = toStored(input);
        const saved = current
          ? await tx.canConfig.update({ where: { dongleId }, data: { ...stored, version: currentVersion + 1 } })
          : await tx.canConfig.create({ data: { ...stored, dongleId, version: 1 } });
        const command = await enqueueCommand(tx, {
          dongleId,
          type: 'APPLY_CAN_CONFIG',
          payload: { version: saved.version, config: stored },
          createdByUserId: user.id,
          organizationId: scope.orgId,
          context,
        });
        await recordAudit(tx, {
          actor: { type: 'user', id: user.id },
          action: 'can_config.update',
          targetType: 'dongle',
          targetId: dongleId,
          details: { fromVersion: currentVersion, toVersion: saved.version, commandId: command.id },
          changes: changes(current ? storedPart(current) : CAN_CONFIG_DEFAULTS, stored),
          context,
        });
        await recordEvent(tx, { organizationId: scope.orgId, type: 'can_config.updated', subjectId: dongleId, data: { version: saved.version, commandId: command.id } });
        return { ...presentCanConfig(dongleId, saved), applyCommandId: command.id };
      });
    },
  };
}
