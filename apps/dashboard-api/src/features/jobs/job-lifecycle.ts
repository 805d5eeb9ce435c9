// The two state machines of a fleet job (doc/jobs.md, States), one table each, as the dongle
// ownership and command lifecycle tables are (doc/architecture.md, State tables). Every path that
// changes a job's or an execution's status names its transition here and takes the states from
// the row: a member's pause, resume and cancel check the locked job row with jobCanApply (else
// 409 invalid_job_state); the scheduler applies its own transitions to the job it holds locked;
// the execution statements are set-based, so they take guard and target as SQL literals
// (executionIs / executionTo), the way the command statements use statusIs / statusTo.
import type { ExecutionStatus, JobStatus } from './jobs.schemas.ts';
import { JOB_STATUSES } from './jobs.schemas.ts';

export type JobTransition = 'start' | 'start_empty' | 'pause' | 'stage_pause' | 'stage_advance' | 'resume' | 'resume_unstarted' | 'complete' | 'abort' | 'cancel';

/** A job's transitions; each has one target (the path picks the transition, never a state). */
export const JOB_TRANSITIONS = {
  start: { from: ['SCHEDULED'], to: 'IN_PROGRESS', by: 'the scheduler at startAt (the targets resolved into executions)' },
  start_empty: { from: ['SCHEDULED'], to: 'COMPLETED', by: 'the scheduler at startAt, when no dongle matched the targets' },
  pause: { from: ['SCHEDULED', 'IN_PROGRESS'], to: 'PAUSED', by: 'a member' },
  stage_pause: { from: ['IN_PROGRESS'], to: 'PAUSED', by: 'the scheduler, when a closed stage is below its success rate' },
  // The status stays; current_stage moves on. A row so that the gate has its from-state here too.
  stage_advance: { from: ['IN_PROGRESS'], to: 'IN_PROGRESS', by: 'the scheduler, when a closed stage reached its success rate' },
  resume: { from: ['PAUSED'], to: 'IN_PROGRESS', by: 'a member, once the job has started' },
  resume_unstarted: { from: ['PAUSED'], to: 'SCHEDULED', by: 'a member, when the job was paused before it started' },
  complete: { from: ['IN_PROGRESS'], to: 'COMPLETED', by: 'the scheduler, once the last stage closed and no execution is PENDING or IN_PROGRESS' },
  abort: { from: ['IN_PROGRESS'], to: 'ABORTED', by: 'the scheduler, when an abort rule is crossed' },
  cancel: { from: ['SCHEDULED', 'IN_PROGRESS', 'PAUSED'], to: 'CANCELLED', by: 'a member' },
} as const satisfies Record<JobTransition, { from: readonly JobStatus[]; to: JobStatus; by: string }>;

/** Whether `transition` applies to a job in `status`. */
export const jobCanApply = (transition: JobTransition, status: string): boolean => (JOB_TRANSITIONS[transition].from as readonly string[]).includes(status);

/** The status a transition leaves the job in (a bound parameter `${jobTarget(t)}::job_status` in SQL). */
export const jobTarget = <T extends JobTransition>(transition: T): (typeof JOB_TRANSITIONS)[T]['to'] => JOB_TRANSITIONS[transition].to;

/** The one state in which a job hands out executions (and its stages close, its abort rules apply). */
export const RUNNING_JOB_STATUS = JOB_TRANSITIONS.start.to;

/** The final states: no transition leaves them (COMPLETED, ABORTED, CANCELLED). */
export const FINAL_JOB_STATUSES: readonly JobStatus[] = JOB_STATUSES.filter((status) => !Object.values(JOB_TRANSITIONS).some((t) => (t.from as readonly string[]).includes(status)));

export const jobIsFinal = (status: string): boolean => (FINAL_JOB_STATUSES as readonly string[]).includes(status);

export type ExecutionTransition = 'hand_out' | 'skip' | 'miss_deadline' | 'cancel' | 'follow_command' | 'requeue';

/**
 * An execution's transitions. `follow_command` has several targets: what its command became
 * (EXECUTION_OF_COMMAND in job-rules.ts) or the execution timeout decides which.
 */
export const EXECUTION_TRANSITIONS = {
  hand_out: { from: 'PENDING', to: ['IN_PROGRESS'], by: 'the hand-out, in the transaction that creates its command' },
  skip: { from: 'PENDING', to: ['SKIPPED'], by: 'the start (known hardware mismatch) or the hand-out (mismatch, already at the version, no longer an active dongle of the organization)' },
  miss_deadline: { from: 'PENDING', to: ['TIMED_OUT'], by: 'the scheduler, past the job deadline' },
  cancel: { from: 'PENDING', to: ['CANCELLED'], by: 'the job stopping (aborted or cancelled)' },
  follow_command: { from: 'IN_PROGRESS', to: ['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'CANCELLED'], by: "the reconcile (its command's end, the execution timeout) and the job stopping (its QUEUED command cancelled)" },
  requeue: { from: 'IN_PROGRESS', to: ['PENDING'], by: 'the reconcile, when its command expired unpicked (never delivered)' },
} as const satisfies Record<ExecutionTransition, { from: ExecutionStatus; to: readonly ExecutionStatus[]; by: string }>;

type SingleTarget = { [T in ExecutionTransition]: (typeof EXECUTION_TRANSITIONS)[T]['to'] extends readonly [ExecutionStatus] ? T : never }[ExecutionTransition];

const literal = (status: ExecutionStatus) => `'${status}'::execution_status`;

/** `<column> = '<from>'` for a transition's guard (an equality, so the (job_id, status, seq) index serves it). */
export const executionIs = (transition: ExecutionTransition, column = 'status'): string => `${column} = ${literal(EXECUTION_TRANSITIONS[transition].from)}`;

/** The single target of a transition, as a SQL literal. */
export const executionTo = (transition: SingleTarget): string => literal(EXECUTION_TRANSITIONS[transition].to[0]);

/** The single target of a transition, for an event or a comparison in TypeScript. */
export const executionTarget = (transition: SingleTarget): ExecutionStatus => EXECUTION_TRANSITIONS[transition].to[0];

/** One of a transition's targets, checked by the compiler against the table (`follow_command` picks among several). */
export const executionInto = <T extends ExecutionTransition>(_transition: T, status: (typeof EXECUTION_TRANSITIONS)[T]['to'][number]): ExecutionStatus => status;

/** The states an execution is still open in: some transition leaves them (PENDING, IN_PROGRESS). */
export const OPEN_EXECUTION_STATUSES: readonly ExecutionStatus[] = [...new Set(Object.values(EXECUTION_TRANSITIONS).map((t) => t.from))];

/** `<column> IN ('PENDING', 'IN_PROGRESS')`: the execution is not finished. */
export const executionOpen = (column = 'status'): string => `${column} IN (${OPEN_EXECUTION_STATUSES.map(literal).join(', ')})`;
