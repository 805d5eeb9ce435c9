import { describe, expect, it } from 'vitest';
import {
  DATA_LIMITS,
  NOMINAL_LIMITS,
  BITRATE_TOLERANCE,
  SAMPLE_POINT_TOLERANCE,
  bitrateMatches,
  samplePointMatches,
  relativeError,
  solveBitTiming,
  timingFromSegments,
  type BitTimingLimits,
  type SegmentTiming,
} from './bit-timing.ts';
import { canConfigInputSchema, type CanConfigInput } from './can-config.schema.ts';

const MHZ_80 = 80_000_000;

/** Asserts a solved timing really meets the request within tolerance and the hardware limits. */
function expectValidTiming(
  timing: SegmentTiming | null,
  request: { clockHz: number; bitrate: number; samplePoint: number; limits: Readonly<BitTimingLimits>; sjw?: number },
): void {
  expect(timing).not.toBeNull();
  if (!timing) return;
  const result = timingFromSegments({ clockHz: request.clockHz, ...timing });
  expect(relativeError(result.bitrate, request.bitrate)).toBeLessThanOrEqual(BITRATE_TOLERANCE);
  expect(Math.abs(result.samplePoint - request.samplePoint)).toBeLessThanOrEqual(SAMPLE_POINT_TOLERANCE + 1e-9);
  for (const key of ['prescaler', 'seg1', 'seg2'] as const) {
    expect(timing[key]).toBeGreaterThanOrEqual(request.limits[key].min);
    expect(timing[key]).toBeLessThanOrEqual(request.limits[key].max);
    expect(Number.isInteger(timing[key])).toBe(true);
  }
  expect(timing.seg2).toBeGreaterThanOrEqual(request.sjw ?? 1);
}

describe('timingFromSegments', () => {
  it('computes 500 kbit/s at 87.5 % from prescaler 10, seg1 13, seg2 2 on 80 MHz (16 tq)', () => {
    expect(timingFromSegments({ clockHz: MHZ_80, prescaler: 10, seg1: 13, seg2: 2 })).toEqual({
      bitrate: 500_000,
      samplePoint: 87.5,
      timeQuanta: 16,
    });
  });

  it('computes 1 Mbit/s at 87.5 % from prescaler 5, seg1 13, seg2 2', () => {
    expect(timingFromSegments({ clockHz: MHZ_80, prescaler: 5, seg1: 13, seg2: 2 })).toEqual({
      bitrate: 1_000_000,
      samplePoint: 87.5,
      timeQuanta: 16,
    });
  });

  it('computes a 2 Mbit/s data phase at 80 % from prescaler 2, seg1 15, seg2 4 (20 tq)', () => {
    expect(timingFromSegments({ clockHz: MHZ_80, prescaler: 2, seg1: 15, seg2: 4 })).toEqual({
      bitrate: 2_000_000,
      samplePoint: 80,
      timeQuanta: 20,
    });
  });
});

describe('relativeError / bitrateMatches / samplePointMatches', () => {
  it('is symmetric in sign and relative to the expected value', () => {
    expect(relativeError(105, 100)).toBeCloseTo(0.05);
    expect(relativeError(95, 100)).toBeCloseTo(0.05);
    expect(relativeError(100, 100)).toBe(0);
  });

  it('handles an expected value of zero without dividing by it', () => {
    expect(relativeError(0, 0)).toBe(0);
    expect(relativeError(1, 0)).toBe(Number.POSITIVE_INFINITY);
  });

  it('accepts a bitrate exactly 0.5 % off and rejects one just beyond it', () => {
    expect(bitrateMatches(502_500, 500_000)).toBe(true);
    expect(bitrateMatches(497_500, 500_000)).toBe(true);
    expect(bitrateMatches(502_600, 500_000)).toBe(false);
  });

  it('measures the sample point in percentage points: 87 % and 88 % match 87.5 %, 86.9 % does not', () => {
    expect(samplePointMatches(87, 87.5)).toBe(true);
    expect(samplePointMatches(88, 87.5)).toBe(true);
    expect(samplePointMatches(86.9, 87.5)).toBe(false);
  });
});

describe('solveBitTiming', () => {
  it('finds an exact 500 kbit/s at 87.5 % on 80 MHz, preferring the most time quanta', () => {
    const request = { clockHz: MHZ_80, bitrate: 500_000, samplePoint: 87.5, limits: NOMINAL_LIMITS };
    const timing = solveBitTiming(request);
    expectValidTiming(timing, request);
    // Prescaler 1 gives 160 tq: the finest resolution the FDCAN allows here.
    expect(timing).toEqual({ prescaler: 1, seg1: 139, seg2: 20 });
  });

  it('finds an exact 1 Mbit/s at 87.5 % on 80 MHz', () => {
    const request = { clockHz: MHZ_80, bitrate: 1_000_000, samplePoint: 87.5, limits: NOMINAL_LIMITS };
    const timing = solveBitTiming(request);
    expectValidTiming(timing, request);
    expect(timing).toEqual({ prescaler: 1, seg1: 69, seg2: 10 });
  });

  it('finds a 2 Mbit/s data phase at 80 % within the data-phase limits', () => {
    const request = { clockHz: MHZ_80, bitrate: 2_000_000, samplePoint: 80, limits: DATA_LIMITS };
    const timing = solveBitTiming(request);
    expectValidTiming(timing, request);
    // 40 tq at prescaler 1 would need seg1 = 31, seg2 = 8: inside DTSEG1 ≤ 32, DTSEG2 ≤ 16.
    expect(timing).toEqual({ prescaler: 1, seg1: 31, seg2: 8 });
  });

  it('finds the slowest nominal rate, 10 kbit/s, which needs a large prescaler', () => {
    const request = { clockHz: MHZ_80, bitrate: 10_000, samplePoint: 87.5, limits: NOMINAL_LIMITS };
    const timing = solveBitTiming(request);
    expectValidTiming(timing, request);
    expect(timing?.prescaler).toBeGreaterThan(20);
  });

  it('reports null for 8 Mbit/s at 75 % on 80 MHz: 10 tq or 5 tq per bit cannot place a 75 % sample point', () => {
    expect(solveBitTiming({ clockHz: MHZ_80, bitrate: 8_000_000, samplePoint: 75, limits: DATA_LIMITS })).toBeNull();
  });

  it('reports null for 7 Mbit/s on a 16 MHz clock: fewer than the 3 tq minimum per bit', () => {
    expect(solveBitTiming({ clockHz: 16_000_000, bitrate: 7_000_000, samplePoint: 75, limits: DATA_LIMITS })).toBeNull();
  });

  it('accepts a bitrate that is only reachable approximately, within 0.5 %', () => {
    // 80 MHz / 333 333 bit/s = 240.0002 tq: not exact, but far inside the tolerance.
    const request = { clockHz: MHZ_80, bitrate: 333_333, samplePoint: 87.5, limits: NOMINAL_LIMITS };
    expectValidTiming(solveBitTiming(request), request);
  });

  it('respects the SJW: seg2 is never smaller than it', () => {
    const request = { clockHz: MHZ_80, bitrate: 8_000_000, samplePoint: 80, limits: DATA_LIMITS };
    expect(solveBitTiming(request)).toEqual({ prescaler: 1, seg1: 7, seg2: 2 });
    // 8 Mbit/s at 80 % leaves at most 2 tq after the sample point, so SJW 3 cannot fit.
    expect(solveBitTiming({ ...request, sjw: 3 })).toBeNull();
    const relaxed = { ...request, samplePoint: 70 };
    expectValidTiming(solveBitTiming({ ...relaxed, sjw: 3 }), { ...relaxed, sjw: 3 });
  });

  it('returns null for nonsense input instead of looping or dividing by zero', () => {
    expect(solveBitTiming({ clockHz: 0, bitrate: 500_000, samplePoint: 87.5, limits: NOMINAL_LIMITS })).toBeNull();
    expect(solveBitTiming({ clockHz: MHZ_80, bitrate: 0, samplePoint: 87.5, limits: NOMINAL_LIMITS })).toBeNull();
  });

  it('reaches 800 kbit/s at 87.5 % within half a point (100 tq give 87 % or 88 %)', () => {
    const request = { clockHz: MHZ_80, bitrate: 800_000, samplePoint: 87.5, limits: NOMINAL_LIMITS };
    expectValidTiming(solveBitTiming(request), request);
  });

  it('meets every common bitrate and sample point on 80 MHz', () => {
    for (const bitrate of [10_000, 20_000, 50_000, 100_000, 125_000, 250_000, 500_000, 800_000, 1_000_000]) {
      for (const samplePoint of [75, 80, 87.5]) {
        const request = { clockHz: MHZ_80, bitrate, samplePoint, limits: NOMINAL_LIMITS };
        expectValidTiming(solveBitTiming(request), request);
      }
    }
  });
});

// ------------------------------------------------------------------ the request schema

const classic = { mode: 'NORMAL', nominalBitrate: 500_000, nominalSamplePoint: 87.5 } as const;
const fd = { ...classic, fdEnabled: true, dataBitrate: 2_000_000, dataSamplePoint: 80 } as const;

function issuesOf(input: unknown): Array<{ path: string; message: string }> {
  const result = canConfigInputSchema.safeParse(input);
  if (result.success) return [];
  return result.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message }));
}

function pathsOf(input: unknown): string[] {
  return issuesOf(input).map((issue) => issue.path);
}

describe('canConfigInputSchema: defaults and field checks', () => {
  it('accepts a minimal classic configuration and fills the defaults', () => {
    const parsed: CanConfigInput = canConfigInputSchema.parse(classic);
    expect(parsed).toEqual({
      ...classic,
      nominalSjw: 1,
      clockHz: MHZ_80,
      fdEnabled: false,
      termination: false,
      autoRetransmit: true,
    });
  });

  it('accepts a complete FD configuration with explicit timing for both phases', () => {
    const input = {
      ...fd,
      mode: 'LISTEN_ONLY',
      nominalSjw: 2,
      nominalPrescaler: 10,
      nominalSeg1: 13,
      nominalSeg2: 2,
      dataSjw: 4,
      dataPrescaler: 2,
      dataSeg1: 15,
      dataSeg2: 4,
      termination: true,
      autoRetransmit: false,
    };
    expect(issuesOf(input)).toEqual([]);
  });

  it('rejects unknown keys (strict object)', () => {
    expect(pathsOf({ ...classic, role: 'admin' })).toEqual(['']);
    const issue = canConfigInputSchema.safeParse({ ...classic, version: 3 }).error?.issues[0];
    expect(issue?.code).toBe('unrecognized_keys');
    expect(issue && 'keys' in issue ? issue.keys : []).toEqual(['version']);
  });

  it('requires mode, nominalBitrate and nominalSamplePoint', () => {
    expect(pathsOf({}).sort()).toEqual(['mode', 'nominalBitrate', 'nominalSamplePoint']);
  });

  it('rejects an unknown mode', () => {
    expect(pathsOf({ ...classic, mode: 'SILENT' })).toEqual(['mode']);
  });

  it.each([
    ['nominalBitrate', 9_999],
    ['nominalBitrate', 1_000_001],
    ['nominalBitrate', 500_000.5],
    ['nominalSamplePoint', 49.9],
    ['nominalSamplePoint', 90.1],
    ['nominalSjw', 0],
    ['nominalSjw', 129],
    ['clockHz', 0],
  ])('names %s when it is %s', (field, value) => {
    expect(pathsOf({ ...classic, [field]: value })).toEqual([field]);
  });

  it.each([
    ['nominalPrescaler', 513],
    ['nominalSeg1', 257],
    ['nominalSeg2', 129],
    ['nominalSeg2', 0],
  ])('enforces the FDCAN nominal range on %s (%s)', (field, value) => {
    const timing = { nominalPrescaler: 10, nominalSeg1: 13, nominalSeg2: 2, [field]: value };
    expect(pathsOf({ ...classic, ...timing })).toEqual([field]);
  });

  it.each([
    ['dataPrescaler', 33],
    ['dataSeg1', 33],
    ['dataSeg2', 17],
    ['dataSjw', 17],
    ['dataBitrate', 8_000_001],
    ['dataSamplePoint', 91],
  ])('enforces the FDCAN data range on %s (%s)', (field, value) => {
    const timing = { dataPrescaler: 2, dataSeg1: 15, dataSeg2: 4, [field]: value };
    expect(pathsOf({ ...fd, ...timing })).toEqual([field]);
  });
});

describe('canConfigInputSchema: explicit timing', () => {
  it('accepts the 500 kbit/s, 87.5 % timing of 16 tq', () => {
    expect(issuesOf({ ...classic, nominalPrescaler: 10, nominalSeg1: 13, nominalSeg2: 2 })).toEqual([]);
  });

  it('names the prescaler when the timing gives another bitrate', () => {
    const issues = issuesOf({ ...classic, nominalPrescaler: 20, nominalSeg1: 13, nominalSeg2: 2 });
    expect(issues).toHaveLength(1);
    expect(issues[0]?.path).toBe('nominalPrescaler');
    expect(issues[0]?.message).toContain('250000 bit/s');
  });

  it('names seg1 when the timing puts the sample point elsewhere', () => {
    // 1 + 12 of 16 tq = 81.25 %, not 87.5 %.
    const issues = issuesOf({ ...classic, nominalPrescaler: 10, nominalSeg1: 12, nominalSeg2: 3 });
    expect(issues.map((issue) => issue.path)).toEqual(['nominalSeg1']);
    expect(issues[0]?.message).toContain('81.25 %');
  });

  it('uses the configured clock, not always 80 MHz', () => {
    // 40 MHz / (5 × 16) = 500 kbit/s.
    expect(issuesOf({ ...classic, clockHz: 40_000_000, nominalPrescaler: 5, nominalSeg1: 13, nominalSeg2: 2 })).toEqual([]);
    expect(pathsOf({ ...classic, clockHz: 40_000_000, nominalPrescaler: 10, nominalSeg1: 13, nominalSeg2: 2 })).toEqual([
      'nominalPrescaler',
    ]);
  });

  it('accepts a sample point a little off but within 0.5 points', () => {
    // 160 tq, seg1 139 → 87.5 %; a stated 87.2 % is 0.3 points away.
    expect(issuesOf({ ...classic, nominalSamplePoint: 87.2, nominalPrescaler: 1, nominalSeg1: 139, nominalSeg2: 20 })).toEqual([]);
    // …but 86.9 % is 0.6 points away.
    expect(pathsOf({ ...classic, nominalSamplePoint: 86.9, nominalPrescaler: 1, nominalSeg1: 139, nominalSeg2: 20 })).toEqual([
      'nominalSeg1',
    ]);
  });

  it('accepts a bitrate within 0.5 % and rejects one beyond it', () => {
    // 80 MHz / (1 × 160 tq) = 500 kbit/s; stated 502 000 is 0.4 % off, 503 000 is 0.6 % off.
    const timing = { nominalPrescaler: 1, nominalSeg1: 139, nominalSeg2: 20 };
    expect(issuesOf({ ...classic, ...timing, nominalBitrate: 502_000 })).toEqual([]);
    expect(pathsOf({ ...classic, ...timing, nominalBitrate: 503_000 })).toEqual(['nominalPrescaler']);
  });

  it('rejects nominal SJW greater than seg2, naming nominalSjw', () => {
    const issues = issuesOf({ ...classic, nominalSjw: 3, nominalPrescaler: 10, nominalSeg1: 13, nominalSeg2: 2 });
    expect(issues.map((issue) => issue.path)).toEqual(['nominalSjw']);
    expect(issues[0]?.message).toBe('nominalSjw (3) must not exceed nominalSeg2 (2).');
  });

  it('rejects data SJW greater than seg2, naming dataSjw', () => {
    const input = { ...fd, dataSjw: 5, dataPrescaler: 2, dataSeg1: 15, dataSeg2: 4 };
    expect(pathsOf(input)).toEqual(['dataSjw']);
  });

  it('allows SJW equal to seg2', () => {
    expect(issuesOf({ ...classic, nominalSjw: 2, nominalPrescaler: 10, nominalSeg1: 13, nominalSeg2: 2 })).toEqual([]);
  });

  it('requires all three nominal segments or none, naming each missing one', () => {
    const issues = issuesOf({ ...classic, nominalPrescaler: 10 });
    expect(issues.map((issue) => issue.path).sort()).toEqual(['nominalSeg1', 'nominalSeg2']);
    expect(issues[0]?.message).toContain('all three or none');
  });

  it('requires all three data segments or none', () => {
    expect(pathsOf({ ...fd, dataSeg1: 15, dataSeg2: 4 })).toEqual(['dataPrescaler']);
  });

  it('checks the data phase timing against dataBitrate and dataSamplePoint', () => {
    // Prescaler 4 × 20 tq = 1 Mbit/s, not 2 Mbit/s.
    expect(pathsOf({ ...fd, dataPrescaler: 4, dataSeg1: 15, dataSeg2: 4 })).toEqual(['dataPrescaler']);
    // 1 + 13 of 20 tq = 70 %, not 80 %.
    expect(pathsOf({ ...fd, dataPrescaler: 2, dataSeg1: 13, dataSeg2: 6 })).toEqual(['dataSeg1']);
  });

  it('reports bitrate, sample point and SJW problems of one timing together', () => {
    const input = { ...classic, nominalSjw: 4, nominalPrescaler: 20, nominalSeg1: 12, nominalSeg2: 3 };
    expect(pathsOf(input).sort()).toEqual(['nominalPrescaler', 'nominalSeg1', 'nominalSjw']);
  });
});

describe('canConfigInputSchema: CAN FD fields', () => {
  it('accepts 500 kbit/s nominal with a 2 Mbit/s data phase at 80 %, and leaves dataSjw to the firmware default', () => {
    const parsed = canConfigInputSchema.parse(fd);
    expect(parsed.fdEnabled).toBe(true);
    expect(parsed.dataSjw).toBeUndefined();
  });

  it('names dataBitrate when FD is on without it', () => {
    const issues = issuesOf({ ...classic, fdEnabled: true, dataSamplePoint: 80 });
    expect(issues).toEqual([{ path: 'dataBitrate', message: 'dataBitrate is required when fdEnabled is true.' }]);
  });

  it('names dataSamplePoint when FD is on without it', () => {
    expect(pathsOf({ ...classic, fdEnabled: true, dataBitrate: 2_000_000 })).toEqual(['dataSamplePoint']);
  });

  it.each([
    ['dataBitrate', 2_000_000],
    ['dataSamplePoint', 80],
    ['dataSjw', 2],
    ['dataPrescaler', 2],
    ['dataSeg1', 15],
    ['dataSeg2', 4],
  ])(
    'names %s when it is given without fdEnabled',
    (field, value) => {
      const issues = issuesOf({ ...classic, [field]: value });
      expect(issues.map((issue) => issue.path)).toEqual([field]);
      expect(issues[0]?.message).toBe(`${field} is only allowed when fdEnabled is true.`);
    },
  );

  it('names every data field given while fdEnabled is explicitly false', () => {
    const { fdEnabled: _on, ...dataFields } = fd;
    expect(pathsOf({ ...dataFields, fdEnabled: false }).sort()).toEqual(['dataBitrate', 'dataSamplePoint']);
  });

  it('rejects a data bitrate below the nominal bitrate', () => {
    expect(pathsOf({ ...fd, nominalBitrate: 1_000_000, dataBitrate: 500_000 })).toEqual(['dataBitrate']);
  });

  it('accepts a data bitrate equal to the nominal bitrate', () => {
    expect(issuesOf({ ...fd, dataBitrate: 500_000, dataSamplePoint: 87.5 })).toEqual([]);
  });

  it('accepts the 8 Mbit/s maximum where the clock allows it', () => {
    expect(issuesOf({ ...fd, dataBitrate: 8_000_000, dataSamplePoint: 80 })).toEqual([]);
  });
});

describe('canConfigInputSchema: reachability without explicit timing', () => {
  it('names dataBitrate when no data timing on 80 MHz gives 8 Mbit/s at 75 %', () => {
    const issues = issuesOf({ ...fd, dataBitrate: 8_000_000, dataSamplePoint: 75 });
    expect(issues.map((issue) => issue.path)).toEqual(['dataBitrate']);
    expect(issues[0]?.message).toContain('80 MHz');
  });

  it('names dataBitrate when the clock is too slow for the data rate', () => {
    expect(pathsOf({ ...fd, clockHz: 16_000_000, dataBitrate: 7_000_000, dataSamplePoint: 75 })).toEqual(['dataBitrate']);
  });

  it('names nominalBitrate when no nominal timing reaches it on the clock', () => {
    // 1 MHz / 1 Mbit/s = 1 tq per bit, below the 3 tq minimum.
    expect(pathsOf({ ...classic, clockHz: 1_000_000, nominalBitrate: 1_000_000 })).toEqual(['nominalBitrate']);
  });

  it('names the SJW when a timing exists but none leaves room for it after the sample point', () => {
    // 8 Mbit/s at 80 % leaves 2 tq for seg2 at most.
    const issues = issuesOf({ ...fd, dataBitrate: 8_000_000, dataSamplePoint: 80, dataSjw: 3 });
    expect(issues.map((issue) => issue.path)).toEqual(['dataSjw']);
  });

  it('does not pile a reachability message on a field that already failed its range check', () => {
    expect(issuesOf({ ...classic, nominalBitrate: 5 })).toHaveLength(1);
  });

  it('reports problems of both phases in one pass', () => {
    const input = { ...fd, nominalPrescaler: 10, dataSjw: 16, dataBitrate: 8_000_000, dataSamplePoint: 80 };
    expect(pathsOf(input).sort()).toEqual(['dataSjw', 'nominalSeg1', 'nominalSeg2']);
  });
});
