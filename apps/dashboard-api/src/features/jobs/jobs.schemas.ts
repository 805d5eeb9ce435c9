// Job requests and views (doc/jobs.md). A job is one operation over a target set, with a rollout
// (rate, in-flight cap, stages), abort rules and a per-execution timeout.
import { z } from 'zod';
import { canConfigInputSchema } from '../can-config/can-config.schema.ts';
import { createCommandBody } from '../commands/command-payloads.ts';
import { selectorField } from '../dongles/tag-selector.ts';

export const JOB_STATUSES = ['SCHEDULED', 'IN_PROGRESS', 'PAUSED', 'COMPLETED', 'ABORTED', 'CANCELLED'] as const;
export const EXECUTION_STATUSES = ['PENDING', 'IN_PROGRESS', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'SKIPPED', 'CANCELLED'] as const;
export const MAX_EXPLICIT_TARGETS = 10_000;

const operation = z.discriminatedUnion('type', [
  /** Any operator command type (the same bodies as POST /api/dongles/:id/commands, without ttlSeconds). */
  z.strictObject({ type: z.literal('COMMAND'), command: createCommandBody }),
  /** Each target's CAN configuration replaced by this one, its version bumped, applied through APPLY_CAN_CONFIG. */
  z.strictObject({ type: z.literal('CAN_CONFIG'), config: canConfigInputSchema }),
  z.strictObject({ type: z.literal('FIRMWARE_UPDATE'), imageId: z.uuid() }),
]);

const targets = z.union([
  z.strictObject({ dongleIds: z.array(z.uuid()).min(1).max(MAX_EXPLICIT_TARGETS) }),
  z.strictObject({ selector: selectorField }),
]);

const stage = z.strictObject({
  /** Cumulative share of the targets handed out by the end of this stage. */
  percent: z.number().gt(0).max(100),
  /** Share of the stage's executed targets that must succeed before the next stage starts; else the job pauses. */
  minSuccessPercent: z.number().min(0).max(100).default(100),
});

const rollout = z
  .strictObject({
    maxPerMinute: z.int().min(1).max(100_000).default(60),
    maxInFlight: z.int().min(1).max(10_000).default(50),
    stages: z.array(stage).max(10).default([]),
  })
  .superRefine((r, ctx) => {
    r.stages.forEach((s, i) => {
      if (i > 0 && s.percent <= r.stages[i - 1]!.percent) ctx.addIssue({ code: 'custom', path: ['stages', i, 'percent'], message: 'stage percents must increase.' });
    });
    if (r.stages.length > 0 && r.stages.at(-1)!.percent !== 100) ctx.addIssue({ code: 'custom', path: ['stages'], message: 'the last stage must be 100 percent.' });
  });
export type Rollout = z.output<typeof rollout>;

const abortRule = z.strictObject({
  /** Which outcomes count as failures: FAILED, TIMED_OUT, or ANY of the two. */
  failureType: z.enum(['FAILED', 'TIMED_OUT', 'ANY']),
  /** The rule is checked only once this many executions have finished (succeeded, failed or timed out). */
  minExecuted: z.int().min(1),
  thresholdPercent: z.number().gt(0).max(100),
});
export type AbortRule = z.output<typeof abortRule>;

export const createJobBody = z
  .strictObject({
    name: z.string().trim().min(1).max(100).optional(),
    operation,
    targets,
    rollout: rollout.default({ maxPerMinute: 60, maxInFlight: 50, stages: [] }),
    abortRules: z.array(abortRule).max(5).default([]),
    /** From hand-out (or delivery) to a finished execution; firmware includes download, flash and the version report. */
    executionTimeoutSeconds: z.int().min(5).max(86_400).default(600),
    requireSigned: z.boolean().default(false),
    startAt: z.iso.datetime().optional(),
    /** Offline targets wait until then; default startAt + 24 h, at most 30 days. */
    deadline: z.iso.datetime().optional(),
  })
  .superRefine((b, ctx) => {
    if (b.requireSigned && b.operation.type !== 'FIRMWARE_UPDATE') ctx.addIssue({ code: 'custom', path: ['requireSigned'], message: 'requireSigned applies to firmware jobs only.' });
  });
export type CreateJobBody = z.output<typeof createJobBody>;

export const jobIdParams = z.strictObject({ id: z.uuid({ message: 'id must be a uuid.' }) });
export const executionsQuery = z.strictObject({
  status: z.enum(EXECUTION_STATUSES).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  /** The seq after which to continue (from the previous page's nextAfter). */
  after: z.coerce.number().int().min(-1).default(-1),
});

const progress = z.object(Object.fromEntries(EXECUTION_STATUSES.map((s) => [s, z.int()])) as Record<(typeof EXECUTION_STATUSES)[number], z.ZodInt>);

export const jobView = z.object({
  id: z.uuid(),
  name: z.string().nullable(),
  status: z.enum(JOB_STATUSES),
  statusReason: z.string().nullable(),
  operation: z.enum(['COMMAND', 'CAN_CONFIG', 'FIRMWARE_UPDATE']),
  spec: z.unknown(),
  firmwareImageId: z.uuid().nullable(),
  selector: z.string().nullable(),
  rollout: z.unknown(),
  abortRules: z.unknown(),
  executionTimeoutSeconds: z.int(),
  requireSigned: z.boolean(),
  currentStage: z.int(),
  targetCount: z.int(),
  progress,
  startAt: z.iso.datetime(),
  deadline: z.iso.datetime(),
  startedAt: z.iso.datetime().nullable(),
  finishedAt: z.iso.datetime().nullable(),
  createdAt: z.iso.datetime(),
});
export type JobView = z.infer<typeof jobView>;

export const executionView = z.object({
  dongleId: z.uuid(),
  seq: z.int(),
  status: z.enum(EXECUTION_STATUSES),
  reason: z.string().nullable(),
  commandId: z.uuid().nullable(),
  dispatchedAt: z.iso.datetime().nullable(),
  finishedAt: z.iso.datetime().nullable(),
});
export const executionPage = z.object({ items: z.array(executionView), nextAfter: z.int().nullable() });
