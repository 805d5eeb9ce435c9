// PUT /api/dongles/:id/can-config body (§5). Field checks live on the fields; everything that
// relates two fields (FD on/off, explicit timing vs. stated bitrate, SJW vs. seg2, whether the
// dongle's clock can reach the request at all) is one superRefine, each issue on the field to fix.
import { z } from 'zod';
import {
  DATA_LIMITS,
  NOMINAL_LIMITS,
  bitrateMatches,
  samplePointMatches,
  solveBitTiming,
  timingFromSegments,
  type BitTimingLimits,
  type Range,
  type SegmentTiming,
} from './bit-timing.ts';

export const CAN_MODES = ['NORMAL', 'LISTEN_ONLY', 'LOOPBACK'] as const;

export const NOMINAL_BITRATE_RANGE: Readonly<Range> = { min: 10_000, max: 1_000_000 };
export const DATA_BITRATE_RANGE: Readonly<Range> = { min: 10_000, max: 8_000_000 };
export const SAMPLE_POINT_RANGE: Readonly<Range> = { min: 50, max: 90 };
// FDCAN kernel clocks on STM32 parts stay well inside this.
export const CLOCK_HZ_RANGE: Readonly<Range> = { min: 1_000_000, max: 200_000_000 };
export const DEFAULT_CLOCK_HZ = 80_000_000;
// The data-phase SJW the firmware uses when FD is on and none is given.
export const DEFAULT_DATA_SJW = 1;

function intIn(field: string, range: Readonly<Range>, unit = '') {
  const message = `${field} must be between ${range.min} and ${range.max}${unit ? ` ${unit}` : ''}.`;
  return z.int({ message: `${field} must be a whole number.` }).min(range.min, { message }).max(range.max, { message });
}

function percentIn(field: string) {
  const message = `${field} must be between ${SAMPLE_POINT_RANGE.min} and ${SAMPLE_POINT_RANGE.max} percent.`;
  return z.number({ message: `${field} must be a number.` }).min(SAMPLE_POINT_RANGE.min, { message }).max(SAMPLE_POINT_RANGE.max, { message });
}

const baseSchema = z.strictObject({
  mode: z.enum(CAN_MODES, { message: `mode must be one of ${CAN_MODES.join(', ')}.` }),
  nominalBitrate: intIn('nominalBitrate', NOMINAL_BITRATE_RANGE, 'bit/s'),
  nominalSamplePoint: percentIn('nominalSamplePoint'),
  nominalSjw: intIn('nominalSjw', NOMINAL_LIMITS.sjw).default(1),
  clockHz: intIn('clockHz', CLOCK_HZ_RANGE, 'Hz').default(DEFAULT_CLOCK_HZ),
  nominalPrescaler: intIn('nominalPrescaler', NOMINAL_LIMITS.prescaler).optional(),
  nominalSeg1: intIn('nominalSeg1', NOMINAL_LIMITS.seg1).optional(),
  nominalSeg2: intIn('nominalSeg2', NOMINAL_LIMITS.seg2).optional(),
  fdEnabled: z.boolean().default(false),
  dataBitrate: intIn('dataBitrate', DATA_BITRATE_RANGE, 'bit/s').optional(),
  dataSamplePoint: percentIn('dataSamplePoint').optional(),
  dataSjw: intIn('dataSjw', DATA_LIMITS.sjw).optional(),
  dataPrescaler: intIn('dataPrescaler', DATA_LIMITS.prescaler).optional(),
  dataSeg1: intIn('dataSeg1', DATA_LIMITS.seg1).optional(),
  dataSeg2: intIn('dataSeg2', DATA_LIMITS.seg2).optional(),
  termination: z.boolean().default(false),
  autoRetransmit: z.boolean().default(true),
});

type BaseConfig = z.output<typeof baseSchema>;
type Phase = 'nominal' | 'data';
type PhaseSuffix = 'Bitrate' | 'SamplePoint' | 'Sjw' | 'Prescaler' | 'Seg1' | 'Seg2';
type PhaseField = `${Phase}${PhaseSuffix}`;

/** Collects cross-field issues; knows which fields already failed their own range checks. */
interface Issues {
  /** True when the field already has an issue (range errors keep their type, so we still run). */
  failed(field: keyof BaseConfig): boolean;
  report(field: keyof BaseConfig, message: string): void;
}

const DATA_FIELDS = ['dataBitrate', 'dataSamplePoint', 'dataSjw', 'dataPrescaler', 'dataSeg1', 'dataSeg2'] as const;
const PHASE_SUFFIXES: readonly PhaseSuffix[] = ['Bitrate', 'SamplePoint', 'Sjw', 'Prescaler', 'Seg1', 'Seg2'];

/** A phase's requested values, with the explicit timing if all three segments were given. */
interface PhaseRequest {
  phase: Phase;
  clockHz: number;
  bitrate: number;
  samplePoint: number;
  sjw: number;
  limits: Readonly<BitTimingLimits>;
  explicit: SegmentTiming | null;
}

export const canConfigInputSchema = baseSchema.superRefine((config, ctx) => {
  const failedFields = new Set(ctx.issues.map((issue) => issue.path?.[0]));
  const issues: Issues = {
    failed: (field) => failedFields.has(field),
    report: (field, message) => {
      // One message per field: a range error already says what to fix there.
      if (failedFields.has(field)) return;
      failedFields.add(field);
      ctx.addIssue({ code: 'custom', path: [field], message });
    },
  };
  checkPhase(config, 'nominal', NOMINAL_LIMITS, config.nominalSjw, issues);
  if (checkFdFields(config, issues)) {
    checkPhase(config, 'data', DATA_LIMITS, config.dataSjw ?? DEFAULT_DATA_SJW, issues);
  }
});

export type CanConfigInput = z.output<typeof canConfigInputSchema>;

/** Returns true when the data phase is on and complete enough to check its timing. */
function checkFdFields(config: BaseConfig, { failed, report }: Issues): boolean {
  if (!config.fdEnabled) {
    for (const field of DATA_FIELDS) {
      if (config[field] !== undefined) report(field, `${field} is only allowed when fdEnabled is true.`);
    }
    return false;
  }
  if (config.dataBitrate === undefined) report('dataBitrate', 'dataBitrate is required when fdEnabled is true.');
  if (config.dataSamplePoint === undefined) report('dataSamplePoint', 'dataSamplePoint is required when fdEnabled is true.');
  if (config.dataBitrate === undefined || config.dataSamplePoint === undefined) return false;
  if (failed('dataBitrate') || failed('nominalBitrate')) return false;
  if (config.dataBitrate < config.nominalBitrate) {
    report('dataBitrate', `dataBitrate must be at least nominalBitrate (${config.nominalBitrate} bit/s).`);
    return false;
  }
  return true;
}

function checkPhase(config: BaseConfig, phase: Phase, limits: Readonly<BitTimingLimits>, sjw: number, issues: Issues): void {
  // Arithmetic on a value that already failed its range check would only add noise.
  if (issues.failed('clockHz') || PHASE_SUFFIXES.some((suffix) => issues.failed(field(phase, suffix)))) return;
  const explicit = explicitTiming(config, phase, issues.report);
  if (explicit === 'incomplete') return;
  const request: PhaseRequest = {
    phase,
    clockHz: config.clockHz,
    bitrate: config[field(phase, 'Bitrate')] ?? 0,
    samplePoint: config[field(phase, 'SamplePoint')] ?? 0,
    sjw,
    limits,
    explicit,
  };
  if (request.explicit) checkExplicitTiming(request, request.explicit, issues.report);
  else checkReachable(request, issues.report);
}

function field(phase: Phase, suffix: PhaseSuffix): PhaseField {
  return `${phase}${suffix}`;
}

// All three of prescaler/seg1/seg2, or none: a partial timing is ambiguous, so name each gap.
function explicitTiming(config: BaseConfig, phase: Phase, report: Issues['report']): SegmentTiming | null | 'incomplete' {
  const names = [field(phase, 'Prescaler'), field(phase, 'Seg1'), field(phase, 'Seg2')] as const;
  const [prescaler, seg1, seg2] = names.map((name) => config[name]);
  if (prescaler === undefined && seg1 === undefined && seg2 === undefined) return null;
  if (prescaler !== undefined && seg1 !== undefined && seg2 !== undefined) return { prescaler, seg1, seg2 };
  const given = names.filter((name) => config[name] !== undefined).join(', ');
  for (const name of names) {
    if (config[name] === undefined) report(name, `${name} is required when ${given} ${given.includes(',') ? 'are' : 'is'} given (all three or none).`);
  }
  return 'incomplete';
}

function checkExplicitTiming(request: PhaseRequest, explicit: SegmentTiming, report: Issues['report']): void {
  const { phase } = request;
  if (request.sjw > explicit.seg2) {
    report(field(phase, 'Sjw'), `${field(phase, 'Sjw')} (${request.sjw}) must not exceed ${field(phase, 'Seg2')} (${explicit.seg2}).`);
  }
  const actual = timingFromSegments({ clockHz: request.clockHz, ...explicit });
  if (!bitrateMatches(actual.bitrate, request.bitrate)) {
    report(
      field(phase, 'Prescaler'),
      `The explicit ${phase} timing gives ${formatNumber(actual.bitrate)} bit/s on a ${formatHz(request.clockHz)} clock, ` +
        `not the stated ${formatNumber(request.bitrate)} bit/s (more than 0.5 % off).`,
    );
  }
  if (!samplePointMatches(actual.samplePoint, request.samplePoint)) {
    report(
      field(phase, 'Seg1'),
      `The explicit ${phase} timing puts the sample point at ${formatNumber(actual.samplePoint)} %, ` +
        `not the stated ${formatNumber(request.samplePoint)} % (more than 0.5 points off).`,
    );
  }
}

// Without explicit timing the firmware derives one, so prove that one exists; if it exists only
// with a smaller SJW, the SJW is the field to change.
function checkReachable(request: PhaseRequest, report: Issues['report']): void {
  const target = { clockHz: request.clockHz, bitrate: request.bitrate, samplePoint: request.samplePoint, limits: request.limits };
  if (!solveBitTiming(target)) {
    report(
      field(request.phase, 'Bitrate'),
      `No ${request.phase} bit timing on a ${formatHz(request.clockHz)} clock gives ${formatNumber(request.bitrate)} bit/s ` +
        `with a sample point of ${formatNumber(request.samplePoint)} % (bitrate within 0.5 %, sample point within 0.5 points).`,
    );
    return;
  }
  if (!solveBitTiming({ ...target, sjw: request.sjw })) {
    report(
      field(request.phase, 'Sjw'),
      `${field(request.phase, 'Sjw')} (${request.sjw}) is larger than the phase-2 segment of any ${request.phase} timing ` +
        `that gives ${formatNumber(request.bitrate)} bit/s at ${formatNumber(request.samplePoint)} %.`,
    );
  }
}

function formatNumber(value: number): string {
  return String(Math.round(value * 100) / 100);
}

function formatHz(hz: number): string {
  return `${formatNumber(hz / 1_000_000)} MHz`;
}
