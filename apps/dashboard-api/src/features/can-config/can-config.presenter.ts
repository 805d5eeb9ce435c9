import type { CanConfigView } from './can-config.views.ts';

/** The configuration fields as stored (everything but ids, versions and timestamps). */
export type StoredCanConfig = {
  mode: CanConfigView['mode'];
  nominalBitrate: number;
  nominalSamplePoint: number;
  nominalSjw: number;
  clockHz: number;
  nominalPrescaler: number | null;
  nominalSeg1: number | null;
  nominalSeg2: number | null;
  fdEnabled: boolean;
  dataBitrate: number | null;
  dataSamplePoint: number | null;
  dataSjw: number | null;
  dataPrescaler: number | null;
  dataSeg1: number | null;
  dataSeg2: number | null;
  termination: boolean;
  autoRetransmit: boolean;
};

/** What a dongle runs before its first PUT (the column defaults of can_configs). */
export const CAN_CONFIG_DEFAULTS: Readonly<StoredCanConfig> = Object.freeze({
  mode: 'NORMAL',
  nominalBitrate: 500_000,
  nominalSamplePoint: 87.5,
  nominalSjw: 1,
  clockHz: 80_000_000,
  nominalPrescaler: null,
  nominalSeg1: null,
  nominalSeg2: null,
  fdEnabled: false,
  dataBitrate: null,
  dataSamplePoint: null,
  dataSjw: null,
  dataPrescaler: null,
  dataSeg1: null,
  dataSeg2: null,
  termination: false,
  autoRetransmit: true,
});

type Row = StoredCanConfig & { version: number; appliedVersion: number; updatedAt: Date };

export function presentCanConfig(dongleId: string, row: Row | null): CanConfigView {
  const stored: StoredCanConfig = row ?? CAN_CONFIG_DEFAULTS;
  return {
    dongleId,
    version: row?.version ?? 0,
    appliedVersion: row?.appliedVersion ?? 0,
    mode: stored.mode,
    nominalBitrate: stored.nominalBitrate,
    nominalSamplePoint: stored.nominalSamplePoint,
    nominalSjw: stored.nominalSjw,
    clockHz: stored.clockHz,
    nominalPrescaler: stored.nominalPrescaler,
    nominalSeg1: stored.nominalSeg1,
    nominalSeg2: stored.nominalSeg2,
    fdEnabled: stored.fdEnabled,
    dataBitrate: stored.dataBitrate,
    dataSamplePoint: stored.dataSamplePoint,
    dataSjw: stored.dataSjw,
    dataPrescaler: stored.dataPrescaler,
    dataSeg1: stored.dataSeg1,
    dataSeg2: stored.dataSeg2,
    termination: stored.termination,
    autoRetransmit: stored.autoRetransmit,
    updatedAt: row?.updatedAt.toISOString() ?? null,
  };
}
