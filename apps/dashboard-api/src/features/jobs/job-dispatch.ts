// Hand-out: PENDING executions of the open stages go to online dongles (the dongle-state report
// window, as for commands), within the rollout's rate (token bucket) and in-flight cap. Each
// execution's command is created in the same transaction that moves it PENDING → IN_PROGRESS, so
// each is handed out once.
import { Prisma, type Dongle, type JobExecution } from '../../generated/prisma/client.ts';
import { sql, type TableRow, type Tx } from '../../platform/database.ts';
import { AppError } from '../../platform/errors.ts';
import { COMMANDABLE_STATE, reportedRecentlySql } from '../dongles/dongle-state.ts';
import { executionEvents } from './job-events.ts';
import { enqueueFor, type FirmwareTarget } from './job-operations.ts';
import { executionIs, executionTarget, executionTo } from './job-lifecycle.ts';
import type { JobRow } from './job-row.ts';
import { refill, stageBoundary, type ExecutionCounts } from './job-rules.ts';

/** Most executions handed out by one job in one tick. */
const DISPATCH_BATCH = 500;

/** A PENDING execution with what the hand-out checks of its dongle. */
type Candidate = Pick<TableRow<JobExecution>, 'id' | 'dongle_id'> & Pick<TableRow<Dongle>, 'organization_id' | 'ownership_state' | 'chip_family' | 'board_revision' | 'firmware_version'>;

/** Hands out PENDING executions of the open stages to online dongles, within rate and in-flight caps. */
export async function dispatch(tx: Tx, job: JobRow, counts: ExecutionCounts, image: FirmwareTarget | undefined): Promise<number> {
  const { maxPerMinute, maxInFlight } = job.rollout;
  let credit = refill(job.dispatch_credit, maxPerMinute, job.elapsed);
  const budget = Math.min(Math.floor(credit), maxInFlight - counts.IN_PROGRESS, DISPATCH_BATCH);
  let handedOut = 0;
  if (budget > 0) {
    const boundary = stageBoundary(job.rollout, job.current_stage, job.target_count);
    const candidates = await sql<Candidate>(
      tx,
      `SELECT e.id, e.dongle_id, d.organization_id, d.ownership_state::text AS ownership_state, d.chip_family, d.board_revision, d.firmware_version
         FROM job_executions e JOIN dongles d ON d.id = e.dongle_id
        WHERE e.job_id = $1::uuid AND ${executionIs('hand_out', 'e.status')} AND e.seq < $2
          AND ${reportedRecentlySql('d')}
        ORDER BY e.seq LIMIT $3
        FOR UPDATE OF e SKIP LOCKED`,
      [job.id, boundary, budget],
    );
    for (const candidate of candidates) {
      const skip = skipReason(job, candidate, image);
      if (skip) {
        await skipExecution(tx, job, candidate, skip);
        continue;
      }
      let commandId: string;
      // The dongle may change between the read above and the insert (released, moved to another
      // organization): enqueueCommand then refuses, and the savepoint undoes anything this
      // execution wrote (a CAN config's version bump) before it is skipped.
      await tx.$executeRaw`SAVEPOINT job_execution`;
      try {
        commandId = await enqueueFor(tx, job, candidate.dongle_id, image);
        await tx.$executeRaw`RELEASE SAVEPOINT job_execution`;
      } catch (error) {
        if (!(error instanceof AppError)) throw error;
        await tx.$executeRaw`ROLLBACK TO SAVEPOINT job_execution`;
        await skipExecution(tx, job, candidate, error.message);
        continue;
      }
      await tx.$executeRaw`
        UPDATE job_executions SET status = ${Prisma.raw(executionTo('hand_out'))}, command_id = ${commandId}::uuid, dispatched_at = now(),
               from_version = ${candidate.firmware_version}, updated_at = now()
         WHERE id = ${candidate.id}::uuid AND ${Prisma.raw(executionIs('hand_out'))}`;
      await executionEvents(tx, job, [{ id: candidate.id, dongle_id: candidate.dongle_id, status: executionTarget('hand_out'), reason: null }]);
      handedOut += 1;
    }
    credit -= handedOut;
  }
  await tx.$executeRaw`UPDATE jobs SET dispatch_credit = ${credit}, last_dispatch_at = now() WHERE id = ${job.id}::uuid`;
  return handedOut;
}

async function skipExecution(tx: Tx, job: JobRow, candidate: Candidate, reason: string): Promise<void> {
  await tx.$executeRaw`UPDATE job_executions SET status = ${Prisma.raw(executionTo('skip'))}, reason = ${reason}, finished_at = now(), updated_at = now() WHERE id = ${candidate.id}::uuid`;
  await executionEvents(tx, job, [{ id: candidate.id, dongle_id: candidate.dongle_id, status: executionTarget('skip'), reason }]);
}

/** Why a candidate is not handed its execution (no longer the organization's active dongle; firmware: other hardware, already at the version), or undefined. */
function skipReason(job: JobRow, dongle: Candidate, image: FirmwareTarget | undefined): string | undefined {
  if (dongle.organization_id !== job.organization_id || dongle.ownership_state !== COMMANDABLE_STATE) return "the dongle is no longer an active dongle of the job's organization";
  if (!image) return undefined;
  if (dongle.chip_family !== image.chip_family || dongle.board_revision !== image.board_revision) {
    return `reported hardware ${dongle.chip_family ?? '?'}/${dongle.board_revision ?? '?'} does not match the image target ${image.chip_family}/${image.board_revision}`;
  }
  if (dongle.firmware_version === image.version) return `already runs version ${image.version}`;
  return undefined;
}
