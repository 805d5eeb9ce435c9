// The job scheduler: a periodic worker on every instance (platform/lifecycle.ts). Each tick
// takes each unfinished job in its own transaction, locked with FOR UPDATE SKIP LOCKED, so one
// instance at a time works on a job and the others skip it; a killed instance's transaction
// rolls back and its lock goes with it. Within the lock a tick:
//   1. starts a due SCHEDULED job: resolves its targets into job_executions (seq = hand-out order);
//   2. reconciles IN_PROGRESS executions with their commands (and, for firmware, the version the
//      dongle reports), and times out those past executionTimeoutSeconds;
//   3. for an IN_PROGRESS job: fails what is still PENDING after the deadline, applies the abort
//      rules (ABORTED: hand-out stops, PENDING executions and QUEUED commands are cancelled),
//      closes a finished stage (next stage, or PAUSED below its success rate, or COMPLETED),
//      then hands out PENDING executions of the current stage to online dongles within the rate
//      (token bucket) and maxInFlight;
//   4. marks a stopped job finished once nothing of it is in flight.
// An execution's command is created in the same transaction that moves it PENDING → IN_PROGRESS,
// so each is handed out once; (job_id, dongle_id) is unique, so a job never acts on a dongle twice.
import type { Database, Tx } from '../../platform/database.ts';
import { AppError } from '../../platform/errors.ts';
import { periodicWorker, type BackgroundWorker } from '../../platform/lifecycle.ts';
import type { Logger } from '../../platform/logger.ts';
import { recordAudit } from '../../platform/audit/audit-writer.ts';
import type { StoredCanConfig } from '../can-config/can-config.presenter.ts';
import { enqueueCommand } from '../commands/command-queue.ts';
import { TTL_MAX_SECONDS } from '../commands/command-payloads.ts';
import { selectorSql, type SelectorTerm } from '../dongles/tag-selector.ts';
import { bulkExecutionEvent, executionEvents, jobEvent, type ExecutionChange } from './job-events.ts';
import { creditCap, crossedAbortRule, emptyCounts, refill, stageBoundary, stagesOf, successPercent, type ExecutionCounts } from './job-rules.ts';
import type { AbortRule, Rollout } from './jobs.schemas.ts';

/** How recently a dongle must have been reported to be handed an execution (as for commands). */
const ONLINE_WINDOW = "interval '5 minutes'";
/** Most executions handed out by one job in one tick. */
const DISPATCH_BATCH = 500;
const SYSTEM = { type: 'system' } as const;

export interface JobRow {
  id: string;
  organization_id: string;
  created_by_user_id: string | null;
  operation: 'COMMAND' | 'CAN_CONFIG' | 'FIRMWARE_UPDATE';
  spec: JobSpec;
  firmware_image_id: string | null;
  selector: string | null;
  rollout: Rollout;
  abort_rules: AbortRule[];
  execution_timeout_seconds: number;
  status: 'SCHEDULED' | 'IN_PROGRESS' | 'PAUSED' | 'COMPLETED' | 'ABORTED' | 'CANCELLED';
  current_stage: number;
  target_count: number;
  dispatch_credit: number;
  /** Seconds since last_dispatch_at by the database clock. */
  elapsed: number;
  past_deadline: boolean;
}

export interface JobSpec {
  command?: { type: string; payload: unknown };
  config?: StoredCanConfig;
  dongleIds?: string[];
  selectorTerms?: SelectorTerm[];
}

interface FirmwareTarget {
  id: string;
  version: string;
  chip_family: string;
  board_revision: string;
  size: number;
  sha256: string;
  signature: Buffer | null;
  public_key: Buffer | null;
}

/**
 * A job's executions per state, from job_execution_counts (kept by triggers on job_executions,
 * doc/database.md): one primary-key range read, whatever the number of targets. Counting the
 * executions themselves cost a tick 0.1–0.2 s at 100,000 targets (doc/benchmarks.md).
 */
export async function countExecutions(tx: Tx, jobId: string): Promise<ExecutionCounts> {
  const rows = await tx.$queryRaw<{ status: keyof ExecutionCounts; n: number }[]>`
    SELECT status::text AS status, n FROM job_execution_counts WHERE job_id = ${jobId}::uuid`;
  const counts = emptyCounts();
  for (const row of rows) counts[row.status] = row.n;
  return counts;
}

/**
 * Stops a job (ABORTED or CANCELLED): nothing more is handed out, PENDING executions and the
 * job's still QUEUED commands are cancelled (each command audited); DELIVERED ones finish.
 */
export async function stopJob(tx: Tx, job: { id: string; organization_id: string }, status: 'ABORTED' | 'CANCELLED', reason: string, actor: { type: 'user'; id: string } | typeof SYSTEM) {
  await tx.$executeRaw`UPDATE jobs SET status = ${status}::job_status, status_reason = ${reason}, updated_at = now() WHERE id = ${job.id}::uuid`;
  const note = status === 'ABORTED' ? 'job aborted' : 'job cancelled';
  const pending = await tx.$executeRaw`
    UPDATE job_executions SET status = 'CANCELLED', reason = ${note}, finished_at = now(), updated_at = now()
     WHERE job_id = ${job.id}::uuid AND status = 'PENDING'`;
  // One statement for any number of QUEUED commands (a job may have thousands in flight): the
  // commands, their executions, and one command.cancel audit row each — the rows recordAudit
  // would write, batched (ids only in the details, nothing to scrub).
  const [cancelled] = await tx.$queryRaw<{ n: number }[]>`
    WITH c AS (
      UPDATE commands SET status = 'CANCELLED', error = ${note}, completed_at = now(), updated_at = now()
       WHERE job_id = ${job.id}::uuid AND status = 'QUEUED' RETURNING id, dongle_id
    ), e AS (
      UPDATE job_executions x SET status = 'CANCELLED', reason = ${note}, finished_at = now(), updated_at = now()
        FROM c WHERE x.command_id = c.id AND x.status = 'IN_PROGRESS' RETURNING x.id
    ), a AS (
      INSERT INTO audit_logs (actor_type, actor_id, action, target_type, target_id, result, details, organization_id)
      SELECT ${actor.type}::actor_type, ${actor.type === 'user' ? actor.id : null}::uuid, 'command.cancel', 'command', c.id::text, 'success',
             jsonb_build_object('dongleId', c.dongle_id, 'jobId', ${job.id}::text, 'reason', ${note}::text), ${job.organization_id}::uuid
        FROM c RETURNING id
    )
    SELECT (SELECT count(*) FROM c)::int AS n, (SELECT count(*) FROM e) AS executions, (SELECT count(*) FROM a) AS audited`;
  const commands = { length: cancelled!.n };
  await jobEvent(tx, job, status === 'ABORTED' ? 'job.aborted' : 'job.cancelled', { reason });
  await bulkExecutionEvent(tx, job, 'CANCELLED', pending + commands.length, note);
  await recordAudit(tx, { organizationId: job.organization_id, actor, action: status === 'ABORTED' ? 'job.abort' : 'job.cancel', targetType: 'job', targetId: job.id, details: { reason, pendingCancelled: pending, queuedCommandsCancelled: commands.length } });
}

/** SCHEDULED → IN_PROGRESS: the target list is resolved now and kept as the executions. */
async function startJob(tx: Tx, job: JobRow): Promise<void> {
  let inserted: number;
  if (job.spec.dongleIds) {
    inserted = await tx.$executeRawUnsafe(
      `INSERT INTO job_executions (job_id, dongle_id, seq)
       SELECT $1::uuid, d.id, (row_number() OVER (ORDER BY t.ord) - 1)::int
         FROM unnest($3::uuid[]) WITH ORDINALITY AS t(id, ord) JOIN dongles d ON d.id = t.id
        WHERE d.organization_id = $2::uuid
       ON CONFLICT DO NOTHING`,
      job.id, job.organization_id, job.spec.dongleIds,
    );
  } else {
    const compiled = selectorSql(job.spec.selectorTerms ?? [], 'd', 3);
    inserted = await tx.$executeRawUnsafe(
      `INSERT INTO job_executions (job_id, dongle_id, seq)
       SELECT $1::uuid, d.id, (row_number() OVER (ORDER BY d.created_at, d.id) - 1)::int
         FROM dongles d WHERE d.organization_id = $2::uuid AND ${compiled.sql}`,
      job.id, job.organization_id, ...compiled.params,
    );
  }
  let skipped = 0;
  if (job.operation === 'FIRMWARE_UPDATE') {
    // Known mismatches are skipped at once; unreported hardware is checked again at hand-out.
    skipped = await tx.$executeRaw`
      UPDATE job_executions e SET status = 'SKIPPED', finished_at = now(), updated_at = now(),
             reason = 'reported hardware ' || coalesce(d.chip_family, '?') || '/' || coalesce(d.board_revision, '?') || ' does not match the image target ' || i.chip_family || '/' || i.board_revision
        FROM dongles d, firmware_images i
       WHERE e.job_id = ${job.id}::uuid AND d.id = e.dongle_id AND i.id = ${job.firmware_image_id}::uuid
         AND ((d.chip_family IS NOT NULL AND d.chip_family <> i.chip_family) OR (d.board_revision IS NOT NULL AND d.board_revision <> i.board_revision))`;
  }
  const done = inserted === 0;
  await tx.$executeRaw`
    UPDATE jobs SET status = ${done ? 'COMPLETED' : 'IN_PROGRESS'}::job_status, target_count = ${inserted}, started_at = now(),
           status_reason = ${done ? 'no dongle matched the targets' : null}, finished_at = ${done ? new Date() : null},
           dispatch_credit = ${Math.min(creditCap(job.rollout.maxPerMinute), job.rollout.maxPerMinute / 60)}, last_dispatch_at = now(), updated_at = now()
     WHERE id = ${job.id}::uuid`;
  await jobEvent(tx, job, 'job.started', { targetCount: inserted });
  await bulkExecutionEvent(tx, job, 'SKIPPED', skipped, 'reported hardware does not match the image target');
  if (done) await jobEvent(tx, job, 'job.completed', { reason: 'no dongle matched the targets' });
  await recordAudit(tx, { organizationId: job.organization_id, actor: SYSTEM, action: 'job.start', targetType: 'job', targetId: job.id, details: { targetCount: inserted } });
  if (done) await recordAudit(tx, { organizationId: job.organization_id, actor: SYSTEM, action: 'job.complete', targetType: 'job', targetId: job.id, details: { reason: 'no dongle matched the targets' } });
}

/**
 * IN_PROGRESS executions follow their command. Firmware succeeds only when the dongle reports
 * the target version (the agent's SUCCEEDED alone is not enough) within the timeout. A command
 * that expired unpicked (the dongle went offline) was never delivered: the execution goes back
 * to PENDING and is handed out again when the dongle returns, until the deadline.
 */
async function reconcile(tx: Tx, job: JobRow, targetVersion: string | null): Promise<void> {
  const firmware = job.operation === 'FIRMWARE_UPDATE';
  const changed = await tx.$queryRaw<ExecutionChange[]>`
    WITH judged AS (
      SELECT e.id,
        CASE
          WHEN ${firmware} AND c.status IN ('DELIVERED', 'SUCCEEDED') AND d.firmware_version = ${targetVersion} THEN 'SUCCEEDED'
          WHEN NOT ${firmware} AND c.status = 'SUCCEEDED' THEN 'SUCCEEDED'
          WHEN c.status = 'FAILED' THEN 'FAILED'
          WHEN c.status = 'TIMED_OUT' THEN 'TIMED_OUT'
          WHEN c.status = 'CANCELLED' THEN 'CANCELLED'
          WHEN c.status = 'EXPIRED' OR (c.status = 'QUEUED' AND c.expires_at <= now()) THEN 'PENDING'
          WHEN c.status IN ('DELIVERED', 'SUCCEEDED') AND c.delivered_at + make_interval(secs => ${job.execution_timeout_seconds}) <= now()
            THEN CASE WHEN c.status = 'SUCCEEDED' THEN 'FAILED' ELSE 'TIMED_OUT' END
        END AS next,
        CASE
          WHEN c.status = 'FAILED' THEN coalesce(c.error, 'the agent reported a failure')
          WHEN c.status = 'TIMED_OUT' THEN 'no result within the command timeout'
          WHEN c.status = 'SUCCEEDED' AND ${firmware} THEN 'the dongle did not report version ' || ${targetVersion}::text || ' within the timeout (reports ' || coalesce(d.firmware_version, 'nothing') || ')'
          WHEN c.status = 'DELIVERED' THEN 'no result within the execution timeout'
          WHEN c.status = 'CANCELLED' THEN coalesce(c.error, 'command cancelled')
        END AS why
        FROM job_executions e
        JOIN commands c ON c.id = e.command_id
        JOIN dongles d ON d.id = e.dongle_id
       WHERE e.job_id = ${job.id}::uuid AND e.status = 'IN_PROGRESS'
    )
    UPDATE job_executions e
       SET status = judged.next::execution_status,
           reason = CASE WHEN judged.next IN ('SUCCEEDED', 'PENDING') THEN NULL ELSE judged.why END,
           command_id = CASE WHEN judged.next = 'PENDING' THEN NULL ELSE e.command_id END,
           dispatched_at = CASE WHEN judged.next = 'PENDING' THEN NULL ELSE e.dispatched_at END,
           finished_at = CASE WHEN judged.next = 'PENDING' THEN NULL ELSE now() END,
           updated_at = now()
      FROM judged
     WHERE e.id = judged.id AND judged.next IS NOT NULL
    RETURNING e.id::text AS id, e.dongle_id::text AS dongle_id, e.status::text AS status, e.reason`;
  await executionEvents(tx, job, changed);
}

/** Whether any execution below `boundary` is still PENDING or IN_PROGRESS: stops at the first one found. */
async function stageOpen(tx: Tx, jobId: string, boundary: number): Promise<boolean> {
  const [row] = await tx.$queryRaw<{ open: boolean }[]>`
    SELECT EXISTS (SELECT 1 FROM job_executions WHERE job_id = ${jobId}::uuid AND status IN ('PENDING', 'IN_PROGRESS') AND seq < ${boundary}) AS open`;
  return row!.open;
}

/** Closes the current stage when nothing of it is open; returns whether hand-out may go on. */
async function closeStage(tx: Tx, job: JobRow, counts: ExecutionCounts): Promise<boolean> {
  const stages = stagesOf(job.rollout);
  const boundary = stageBoundary(job.rollout, job.current_stage, job.target_count);
  if (await stageOpen(tx, job.id, boundary)) return true;
  if (job.current_stage >= stages.length - 1) {
    if (counts.PENDING + counts.IN_PROGRESS > 0) return true;
    await tx.$executeRaw`UPDATE jobs SET status = 'COMPLETED', status_reason = NULL, updated_at = now() WHERE id = ${job.id}::uuid`;
    await recordAudit(tx, { organizationId: job.organization_id, actor: SYSTEM, action: 'job.complete', targetType: 'job', targetId: job.id, details: { progress: counts } });
    await jobEvent(tx, job, 'job.completed', { progress: counts });
    job.status = 'COMPLETED';
    return false;
  }
  const from = stageBoundary(job.rollout, job.current_stage - 1, job.target_count);
  const rows = await tx.$queryRaw<{ status: keyof ExecutionCounts; n: number }[]>`
    SELECT status::text AS status, count(*)::int AS n FROM job_executions
     WHERE job_id = ${job.id}::uuid AND seq >= ${from} AND seq < ${boundary} GROUP BY status`;
  const stageCounts = emptyCounts();
  for (const row of rows) stageCounts[row.status] = row.n;
  const rate = successPercent(stageCounts);
  const needed = stages[job.current_stage]!.minSuccessPercent;
  const passed = rate >= needed;
  const stageNo = job.current_stage + 1;
  job.current_stage += 1;
  if (passed) {
    await tx.$executeRaw`UPDATE jobs SET current_stage = ${job.current_stage}, updated_at = now() WHERE id = ${job.id}::uuid`;
    await recordAudit(tx, { organizationId: job.organization_id, actor: SYSTEM, action: 'job.stage.advance', targetType: 'job', targetId: job.id, details: { stage: stageNo, successPercent: rate, needed } });
    await jobEvent(tx, job, 'job.stage_advanced', { stage: stageNo, successPercent: rate, needed });
    return true;
  }
  const reason = `stage ${stageNo} reached ${rate.toFixed(1)} % success, below its ${needed} %: resume to start stage ${stageNo + 1}`;
  await tx.$executeRaw`UPDATE jobs SET current_stage = ${job.current_stage}, status = 'PAUSED', status_reason = ${reason}, updated_at = now() WHERE id = ${job.id}::uuid`;
  await recordAudit(tx, { organizationId: job.organization_id, actor: SYSTEM, action: 'job.pause', targetType: 'job', targetId: job.id, details: { reason, stage: stageNo, successPercent: rate, needed } });
  await jobEvent(tx, job, 'job.paused', { reason, stage: stageNo });
  job.status = 'PAUSED';
  return false;
}

interface Candidate {
  id: string;
  dongle_id: string;
  organization_id: string | null;
  ownership_state: string;
  chip_family: string | null;
  board_revision: string | null;
  firmware_version: string | null;
}

/** Hands out PENDING executions of the open stages to online dongles, within rate and in-flight caps. */
async function dispatch(tx: Tx, job: JobRow, counts: ExecutionCounts, image: FirmwareTarget | undefined): Promise<number> {
  const { maxPerMinute, maxInFlight } = job.rollout;
  let credit = refill(job.dispatch_credit, maxPerMinute, job.elapsed);
  const budget = Math.min(Math.floor(credit), maxInFlight - counts.IN_PROGRESS, DISPATCH_BATCH);
  let handedOut = 0;
  if (budget > 0) {
    const boundary = stageBoundary(job.rollout, job.current_stage, job.target_count);
    const candidates = await tx.$queryRawUnsafe<Candidate[]>(
      `SELECT e.id, e.dongle_id, d.organization_id, d.ownership_state::text AS ownership_state, d.chip_family, d.board_revision, d.firmware_version
         FROM job_executions e JOIN dongles d ON d.id = e.dongle_id
        WHERE e.job_id = $1::uuid AND e.status = 'PENDING' AND e.seq < $2
          AND d.last_seen_at > now() - ${ONLINE_WINDOW}
        ORDER BY e.seq LIMIT $3
        FOR UPDATE OF e SKIP LOCKED`,
      job.id, boundary, budget,
    );
    for (const candidate of candidates) {
      const skip = skipReason(job, candidate, image);
      if (skip) {
        await tx.$executeRaw`UPDATE job_executions SET status = 'SKIPPED', reason = ${skip}, finished_at = now(), updated_at = now() WHERE id = ${candidate.id}::uuid`;
        await executionEvents(tx, job, [{ id: candidate.id, dongle_id: candidate.dongle_id, status: 'SKIPPED', reason: skip }]);
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
        await tx.$executeRaw`UPDATE job_executions SET status = 'SKIPPED', reason = ${error.message}, finished_at = now(), updated_at = now() WHERE id = ${candidate.id}::uuid`;
        await executionEvents(tx, job, [{ id: candidate.id, dongle_id: candidate.dongle_id, status: 'SKIPPED', reason: error.message }]);
        continue;
      }
      await tx.$executeRaw`
        UPDATE job_executions SET status = 'IN_PROGRESS', command_id = ${commandId}::uuid, dispatched_at = now(),
               from_version = ${candidate.firmware_version}, updated_at = now()
         WHERE id = ${candidate.id}::uuid AND status = 'PENDING'`;
      await executionEvents(tx, job, [{ id: candidate.id, dongle_id: candidate.dongle_id, status: 'IN_PROGRESS', reason: null }]);
      handedOut += 1;
    }
    credit -= handedOut;
  }
  await tx.$executeRaw`UPDATE jobs SET dispatch_credit = ${credit}, last_dispatch_at = now() WHERE id = ${job.id}::uuid`;
  return handedOut;
}

function skipReason(job: JobRow, dongle: Candidate, image: FirmwareTarget | undefined): string | undefined {
  if (dongle.organization_id !== job.organization_id || dongle.ownership_state !== 'CLAIMED_ACTIVE') return "the dongle is no longer an active dongle of the job's organization";
  if (!image) return undefined;
  if (dongle.chip_family !== image.chip_family || dongle.board_revision !== image.board_revision) {
    return `reported hardware ${dongle.chip_family ?? '?'}/${dongle.board_revision ?? '?'} does not match the image target ${image.chip_family}/${image.board_revision}`;
  }
  if (dongle.firmware_version === image.version) return `already runs version ${image.version}`;
  return undefined;
}

async function enqueueFor(tx: Tx, job: JobRow, dongleId: string, image: FirmwareTarget | undefined): Promise<string> {
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

async function loadImage(tx: Tx, imageId: string | null): Promise<FirmwareTarget | undefined> {
  if (!imageId) return undefined;
  const [image] = await tx.$queryRaw<FirmwareTarget[]>`
    SELECT i.id, i.version, i.chip_family, i.board_revision, i.size, i.sha256, i.signature, k.public_key
      FROM firmware_images i LEFT JOIN signing_keys k ON k.id = i.signing_key_id WHERE i.id = ${imageId}::uuid`;
  return image;
}

export interface TickResult {
  jobs: number;
  handedOut: number;
  /** Jobs whose tick failed (rolled back; retried next tick). */
  failed: Array<{ jobId: string; error: string }>;
}

/** One job's tick inside its transaction; false when another instance holds it. */
export async function tickJob(tx: Tx, jobId: string): Promise<{ locked: boolean; handedOut: number }> {
  const [job] = await tx.$queryRaw<JobRow[]>`
    SELECT id, organization_id, created_by_user_id, operation::text AS operation, spec, firmware_image_id, selector, rollout, abort_rules, execution_timeout_seconds,
           status::text AS status, current_stage, target_count, dispatch_credit,
           extract(epoch FROM now() - coalesce(last_dispatch_at, now()))::float8 AS elapsed, deadline <= now() AS past_deadline
      FROM jobs WHERE id = ${jobId}::uuid AND finished_at IS NULL
       FOR UPDATE SKIP LOCKED`;
  if (!job) return { locked: false, handedOut: 0 };
  if (job.status === 'SCHEDULED') {
    await startJob(tx, job);
    return { locked: true, handedOut: 0 };
  }
  const image = await loadImage(tx, job.firmware_image_id);
  await reconcile(tx, job, image?.version ?? null);
  let handedOut = 0;
  if (job.status === 'IN_PROGRESS') {
    if (job.past_deadline) {
      const late = await tx.$executeRaw`
        UPDATE job_executions SET status = 'TIMED_OUT', reason = 'the dongle was not reachable before the job deadline', finished_at = now(), updated_at = now()
         WHERE job_id = ${job.id}::uuid AND status = 'PENDING'`;
      await bulkExecutionEvent(tx, job, 'TIMED_OUT', late, 'the dongle was not reachable before the job deadline');
    }
    const counts = await countExecutions(tx, job.id);
    const crossed = crossedAbortRule(job.abort_rules, counts);
    if (crossed) {
      await stopJob(tx, job, 'ABORTED', crossed.reason, SYSTEM);
      job.status = 'ABORTED';
    } else {
      // A stage that passes opens the next one in the same tick.
      for (let guard = 0; guard <= stagesOf(job.rollout).length && job.status === 'IN_PROGRESS' && (await closeStage(tx, job, counts)); guard++) {
        if (await stageOpen(tx, job.id, stageBoundary(job.rollout, job.current_stage, job.target_count))) break;
      }
      if (job.status === 'IN_PROGRESS') handedOut = await dispatch(tx, job, counts, image);
    }
  }
  if (job.status === 'COMPLETED' || job.status === 'ABORTED' || job.status === 'CANCELLED') {
    const inFlight = (await countExecutions(tx, job.id)).IN_PROGRESS;
    if (inFlight === 0) await tx.$executeRaw`UPDATE jobs SET finished_at = now(), updated_at = now() WHERE id = ${job.id}::uuid`;
  }
  return { locked: true, handedOut };
}

/** One pass over every unfinished job (each in its own transaction). */
export async function runSchedulerTick(db: Database): Promise<TickResult> {
  const due = await db.prisma.$queryRaw<{ id: string }[]>`
    SELECT id FROM jobs WHERE finished_at IS NULL AND (status <> 'SCHEDULED' OR start_at <= now()) ORDER BY created_at LIMIT 100`;
  let jobs = 0;
  let handedOut = 0;
  const failed: Array<{ jobId: string; error: string }> = [];
  for (const { id } of due) {
    // One job's failure (its transaction rolls back) must not hold up the others.
    try {
      const result = await db.prisma.$transaction((tx) => tickJob(tx, id), { timeout: 60_000, maxWait: 10_000 });
      if (result.locked) jobs += 1;
      handedOut += result.handedOut;
    } catch (error) {
      failed.push({ jobId: id, error: (error as Error).message });
    }
  }
  return { jobs, handedOut, failed };
}

export function createJobScheduler(options: { db: Database; logger: Logger; tickMs: number }): BackgroundWorker {
  return periodicWorker({
    name: 'job-scheduler',
    intervalMs: options.tickMs,
    work: async () => {
      const result = await runSchedulerTick(options.db);
      for (const failure of result.failed) options.logger.warn({ jobId: failure.jobId, err: failure.error }, 'job tick failed; retrying next tick');
      if (result.handedOut > 0) options.logger.debug({ jobs: result.jobs, handedOut: result.handedOut }, 'job scheduler tick');
    },
    onError: (error) => options.logger.warn({ err: (error as Error).message }, 'job scheduler tick failed; retrying next interval'),
  });
}
