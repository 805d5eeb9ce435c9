// The bit-timing arithmetic is the server's own module (a pure file with no imports), so the
// preview in the form is exactly what the server will compute or refuse.
export { DATA_LIMITS, NOMINAL_LIMITS, solveBitTiming, timingFromSegments } from '../../../../dashboard-api/src/features/can-config/bit-timing.ts';
