// What a job's operation puts in each execution's command: the same typed command for every
// target, a CAN configuration (the dongle's own replaced, its version bumped, as a PUT would), or
// a firmware update naming the image, its hash and signature.
import type { FirmwareImage, SigningKey } from '../../generated/prisma/client.ts';
import type { TableRow, Tx } from '../../platform/database.ts';
import { recordAudit } from '../../platform/audit/audit-writer.ts';
import { enqueueCommand } from '../commands/command-queue.ts';
import { TTL_MAX_SECONDS } from '../commands/command-payloads.ts';
import { SYSTEM, type JobRow } from './job-row.ts';

/** The image a firmware job installs, with the public key it verified under (none: unsigned). */
export type FirmwareTarget = Pick<TableRow<FirmwareImage>, 'id' | 'version' | 'chip_family' | 'board_revision' | 'size' | 'sha256' | 'signature'> & {
  public_key: TableRow<SigningKey>['public_key'] | null;
};

/** The firmware image a job installs (with its signing key), or undefined for other jobs. */
export async function loadImage(tx: Tx, imageId: string | null): Promise<FirmwareTarget | undefined> {
  if (!imageId) return undefined;
  const [image] = await tx.$queryRaw<FirmwareTarget[]>`
    SELECT i.id, i.version, i.chip_family, i.board_revision, i.size, i.sha256, i.signature, k.public_key
      FROM firmware_images i LEFT JOIN signing_keys k ON k.id = i.signing_key_id WHERE i.id = ${imageId}::uuid`;
  return image;
}

/** Enqueues the execution's command for `dongleId` (in the caller's savepoint); returns its id. */
export async function enqueueFor(tx: Tx, job: JobRow, dongleId: string, image: FirmwareTarget | undefined): Promise<string> {
  const common = {
    dongleId,
    organizationId: job.organization_id,
    createdByUserId: job.created_by_user_id,
    jobId: job.id,
    ttlSeconds: Math.min(TTL_MAX_SECONDS, job.execution_timeout_seconds),
    timeoutSeconds: job.execution_timeout_seconds,
    context: { ip: null, userAgent: null, organizationId: job.organization_id },
  };
  if (job.operation === 'FIRMWARE_UPDATE') {
    const payload = {
      imageId: image!.id,
      version: image!.version,
      chipFamily: image!.chip_family,
      boardRevision: image!.board_revision,
      size: image!.size,
      sha256: image!.sha256,
      signature: image!.signature ? Buffer.from(image!.signature).toString('base64') : null,
      publicKey: image!.public_key ? Buffer.from(image!.public_key).toString('base64') : null,
      downloadPath: `/api/agent/firmware/${image!.id}`,
    };
    return (await enqueueCommand(tx, { ...common, type: 'FIRMWARE_UPDATE', payload })).id;
  }
  if (job.operation === 'CAN_CONFIG') {
    // The dongle's own configuration is replaced and its version bumped, as a PUT would.
    const config = job.spec.config!;
    const [saved] = await tx.$queryRaw<{ version: number }[]>`
      INSERT INTO can_configs (dongle_id, mode, nominal_bitrate, nominal_sample_point, nominal_sjw, clock_hz, nominal_prescaler, nominal_seg1, nominal_seg2,
                               fd_enabled, data_bitrate, data_sample_point, data_sjw, data_prescaler, data_seg1, data_seg2, termination, auto_retransmit, version)
      VALUES (${dongleId}::uuid, ${config.mode}::can_mode, ${config.nominalBitrate}, ${config.nominalSamplePoint}, ${config.nominalSjw}, ${config.clockHz},
              ${config.nominalPrescaler}, ${config.nominalSeg1}, ${config.nominalSeg2}, ${config.fdEnabled}, ${config.dataBitrate}, ${config.dataSamplePoint},
              ${config.dataSjw}, ${config.dataPrescaler}, ${config.dataSeg1}, ${config.dataSeg2}, ${config.termination}, ${config.autoRetransmit}, 1)
      ON CONFLICT (dongle_id) DO UPDATE SET
        mode = EXCLUDED.mode, nominal_bitrate = EXCLUDED.nominal_bitrate, nominal_sample_point = EXCLUDED.nominal_sample_point,
        nominal_sjw = EXCLUDED.nominal_sjw, clock_hz = EXCLUDED.clock_hz, nominal_prescaler = EXCLUDED.nominal_prescaler,
        nominal_seg1 = EXCLUDED.nominal_seg1, nominal_seg2 = EXCLUDED.nominal_seg2, fd_enabled = EXCLUDED.fd_enabled,
        data_bitrate = EXCLUDED.data_bitrate, data_sample_point = EXCLUDED.data_sample_point, data_sjw = EXCLUDED.data_sjw,
        data_prescaler = EXCLUDED.data_prescaler, data_seg1 = EXCLUDED.data_seg1, data_seg2 = EXCLUDED.data_seg2,
        termination = EXCLUDED.termination, auto_retransmit = EXCLUDED.auto_retransmit,
        version = can_configs.version + 1, updated_at = now()
      RETURNING version`;
    const command = await enqueueCommand(tx, { ...common, type: 'APPLY_CAN_CONFIG', payload: { version: saved!.version, config } });
    await recordAudit(tx, { organizationId: job.organization_id, actor: job.created_by_user_id ? { type: 'user', id: job.created_by_user_id } : SYSTEM, action: 'can_config.update', targetType: 'dongle', targetId: dongleId, details: { toVersion: saved!.version, commandId: command.id, jobId: job.id } });
    return command.id;
  }
  const command = job.spec.command!;
  return (await enqueueCommand(tx, { ...common, type: command.type as never, payload: command.payload })).id;
}
