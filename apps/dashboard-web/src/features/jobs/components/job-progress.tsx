import { Badge } from '../../../components/ui/badge.tsx';
import type { ExecutionStatus, Job, JobStatus } from '../../../lib/api.ts';

export const EXECUTION_STATES: ExecutionStatus[] = ['PENDING', 'IN_PROGRESS', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'SKIPPED', 'CANCELLED'];
export const executionLabel: Record<ExecutionStatus, string> = {
  PENDING: 'Pending',
  IN_PROGRESS: 'In progress',
  SUCCEEDED: 'Succeeded',
  FAILED: 'Failed',
  TIMED_OUT: 'Timed out',
  SKIPPED: 'Skipped',
  CANCELLED: 'Cancelled',
};
const jobTone: Record<JobStatus, 'ok' | 'warn' | 'bad' | 'neutral'> = { SCHEDULED: 'neutral', IN_PROGRESS: 'warn', PAUSED: 'warn', COMPLETED: 'ok', ABORTED: 'bad', CANCELLED: 'neutral' };
const jobLabel: Record<JobStatus, string> = { SCHEDULED: 'Scheduled', IN_PROGRESS: 'In progress', PAUSED: 'Paused', COMPLETED: 'Completed', ABORTED: 'Aborted', CANCELLED: 'Cancelled' };
export const executionTone = (s: ExecutionStatus) => (s === 'SUCCEEDED' ? 'ok' : s === 'FAILED' || s === 'TIMED_OUT' ? 'bad' : s === 'IN_PROGRESS' ? 'warn' : 'neutral');

export function JobStatusBadge({ status }: { status: JobStatus }) {
  return <Badge tone={jobTone[status]}>{jobLabel[status]}</Badge>;
}

export const operationLabel = { COMMAND: 'Command', CAN_CONFIG: 'CAN configuration', FIRMWARE_UPDATE: 'Firmware update' } as const;

/** A bar of the execution states plus the counts in words (the bar is decoration). */
export function JobProgress({ job, detailed = false }: { job: Pick<Job, 'progress' | 'targetCount'>; detailed?: boolean }) {
  const total = Math.max(job.targetCount, 1);
  const finished = job.targetCount - job.progress.PENDING - job.progress.IN_PROGRESS;
  return (
    <div data-testid="job-progress">
      <div className="progress" aria-hidden="true">
        {EXECUTION_STATES.filter((s) => s !== 'PENDING' && job.progress[s] > 0).map((s) => (
          <span key={s} className={`p-${s}`} style={{ width: `${(100 * job.progress[s]) / total}%` }} />
        ))}
      </div>
      <p className="small muted progress-text">
        {finished} of {job.targetCount} finished
      </p>
      {detailed && (
        <ul className="counts" aria-label="Executions by state">
          {EXECUTION_STATES.map((s) => (
            <li key={s} data-state={s}>
              {executionLabel[s]}: <strong>{job.progress[s]}</strong>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
