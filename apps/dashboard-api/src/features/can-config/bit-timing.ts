// CAN bit-timing arithmetic for the dongle's STM32 FDCAN peripheral. Pure functions only: the
// request schema uses them to check explicit timings and to prove that a requested bitrate and
// sample point can be reached at all on the dongle's clock.
//
// One bit = 1 sync quantum + seg1 (propagation + phase 1) + seg2 (phase 2) time quanta;
// one time quantum = prescaler / clockHz seconds; the sample point sits after sync + seg1.

export interface Range {
  min: number;
  max: number;
}

/** Register ranges of one FDCAN phase (values as the hardware interprets them, i.e. "+1"). */
export interface BitTimingLimits {
  prescaler: Range;
  seg1: Range;
  seg2: Range;
  sjw: Range;
}

/** STM32 FDCAN nominal (arbitration) phase: NBRP, NTSEG1, NTSEG2, NSJW. */
export const NOMINAL_LIMITS: Readonly<BitTimingLimits> = Object.freeze({
  prescaler: { min: 1, max: 512 },
  seg1: { min: 1, max: 256 },
  seg2: { min: 1, max: 128 },
  sjw: { min: 1, max: 128 },
});

/** STM32 FDCAN data phase: DBRP, DTSEG1, DTSEG2, DSJW. */
export const DATA_LIMITS: Readonly<BitTimingLimits> = Object.freeze({
  prescaler: { min: 1, max: 32 },
  seg1: { min: 1, max: 32 },
  seg2: { min: 1, max: 16 },
  sjw: { min: 1, max: 16 },
});

/** §5 "within 0.5 %": for the bitrate, relative to the stated bitrate. */
export const BITRATE_TOLERANCE = 0.005;
/**
 * §5 "within 0.5 %": the sample point is itself a percentage, so 0.5 percentage points.
 * (A relative reading would reject e.g. 800 kbit/s at 87.5 % on 80 MHz, where 87 % and 88 %
 * are the nearest achievable points, a timing every CAN tool accepts.)
 */
export const SAMPLE_POINT_TOLERANCE = 0.5;

// Float noise guard: errors computed from exact ratios can land a hair above the limit.
const EPSILON = 1e-9;

export interface SegmentTiming {
  prescaler: number;
  seg1: number;
  seg2: number;
}

export interface TimingResult {
  /** bit/s */
  bitrate: number;
  /** percent of the bit time */
  samplePoint: number;
  /** time quanta per bit, sync quantum included */
  timeQuanta: number;
}

export interface SolveRequest {
  clockHz: number;
  bitrate: number;
  /** percent */
  samplePoint: number;
  limits: Readonly<BitTimingLimits>;
  /** The SJW that will be used: seg2 must be at least this large. Defaults to 1. */
  sjw?: number;
}

/** What a prescaler and two segments produce on a given clock. */
export function timingFromSegments(input: { clockHz: number } & SegmentTiming): TimingResult {
  const timeQuanta = 1 + input.seg1 + input.seg2;
  return {
    bitrate: input.clockHz / (input.prescaler * timeQuanta),
    samplePoint: ((1 + input.seg1) / timeQuanta) * 100,
    timeQuanta,
  };
}

/** |actual − expected| / |expected|; Infinity when expected is 0 and actual is not. */
export function relativeError(actual: number, expected: number): number {
  if (expected === 0) return actual === 0 ? 0 : Number.POSITIVE_INFINITY;
  return Math.abs(actual - expected) / Math.abs(expected);
}

/** True when a produced bitrate is within 0.5 % of the stated one. */
export function bitrateMatches(actual: number, expected: number): boolean {
  return relativeError(actual, expected) <= BITRATE_TOLERANCE + EPSILON;
}

/** True when a produced sample point (percent) is within 0.5 points of the stated one. */
export function samplePointMatches(actual: number, expected: number): boolean {
  return Math.abs(actual - expected) <= SAMPLE_POINT_TOLERANCE + EPSILON;
}

interface Candidate extends SegmentTiming {
  bitrateError: number;
  samplePointError: number;
  timeQuanta: number;
}

/**
 * The best timing within tolerance (0.5 % bitrate, 0.5 points sample point), or null.
 * Preference: exact (smallest-error) bitrate, then the closest sample point, then more time
 * quanta (finer resolution, and the lowest prescaler, which FD transceiver-delay compensation likes).
 */
export function solveBitTiming(request: SolveRequest): SegmentTiming | null {
  if (!(request.clockHz > 0 && request.bitrate > 0 && request.samplePoint > 0)) return null;
  let best: Candidate | null = null;
  for (let prescaler = request.limits.prescaler.min; prescaler <= request.limits.prescaler.max; prescaler += 1) {
    for (const timeQuanta of timeQuantaCandidates(request.clockHz, prescaler, request.bitrate)) {
      const candidate = bestSplit(request, prescaler, timeQuanta);
      if (candidate && (!best || isBetter(candidate, best))) best = candidate;
    }
  }
  return best ? { prescaler: best.prescaler, seg1: best.seg1, seg2: best.seg2 } : null;
}

// The ideal quanta count is rarely an integer; only its two integer neighbours can be closest.
function timeQuantaCandidates(clockHz: number, prescaler: number, bitrate: number): number[] {
  const ideal = clockHz / (prescaler * bitrate);
  const below = Math.floor(ideal);
  const above = Math.ceil(ideal);
  return below === above ? [below] : [below, above];
}

// For a fixed prescaler and bit length, pick the seg1/seg2 split closest to the sample point.
function bestSplit(request: SolveRequest, prescaler: number, timeQuanta: number): Candidate | null {
  const { limits } = request;
  const bitrate = request.clockHz / (prescaler * timeQuanta);
  if (!bitrateMatches(bitrate, request.bitrate)) return null;
  const bitrateError = relativeError(bitrate, request.bitrate);

  const minSeg2 = Math.max(limits.seg2.min, request.sjw ?? 1);
  const lowestSeg1 = Math.max(limits.seg1.min, timeQuanta - 1 - limits.seg2.max);
  const highestSeg1 = Math.min(limits.seg1.max, timeQuanta - 1 - minSeg2);
  if (lowestSeg1 > highestSeg1) return null;

  const idealSeg1 = (timeQuanta * request.samplePoint) / 100 - 1;
  let best: Candidate | null = null;
  for (const rawSeg1 of [Math.floor(idealSeg1), Math.ceil(idealSeg1)]) {
    const seg1 = Math.min(highestSeg1, Math.max(lowestSeg1, rawSeg1));
    const seg2 = timeQuanta - 1 - seg1;
    const samplePoint = ((1 + seg1) / timeQuanta) * 100;
    if (!samplePointMatches(samplePoint, request.samplePoint)) continue;
    const samplePointError = Math.abs(samplePoint - request.samplePoint);
    const candidate = { prescaler, seg1, seg2, bitrateError, samplePointError, timeQuanta };
    if (!best || isBetter(candidate, best)) best = candidate;
  }
  return best;
}

function isBetter(a: Candidate, b: Candidate): boolean {
  if (Math.abs(a.bitrateError - b.bitrateError) > EPSILON) return a.bitrateError < b.bitrateError;
  if (Math.abs(a.samplePointError - b.samplePointError) > EPSILON) return a.samplePointError < b.samplePointError;
  return a.timeQuanta > b.timeQuanta;
}
