// One job: what it does, its progress per execution state, pause / resume / cancel, and every
// execution in hand-out order. Updated by job.* events.
import { useMemo } from 'react';
import { Link, useParams } from 'react-router';
import { Badge } from '../../../components/ui/badge.tsx';
import { Button } from '../../../components/ui/button.tsx';
import { ConfirmButton } from '../../../components/ui/confirm.tsx';
import { ErrorMessage, Loading } from '../../../components/ui/feedback.tsx';
import type { Job } from '../../../lib/api.ts';
import { dateTime } from '../../../lib/format.ts';
import { may } from '../../../lib/permissions.ts';
import { useTitle } from '../../../lib/use-title.ts';
import { useDongles } from '../../dongles/api.ts';
import { useOrg } from '../../orgs/org-context.tsx';
import { useJob, useJobAction, useJobExecutions } from '../api.ts';
import { executionLabel, executionTone, JobProgress, JobStatusBadge } from './job-progress.tsx';

const FINAL = new Set(['COMPLETED', 'ABORTED', 'CANCELLED']);

function describe(job: Job): string {
  const spec = job.spec as { command?: { type?: string }; config?: { nominalBitrate?: number } } | null;
  if (job.operation === 'COMMAND') return `Command ${spec?.command?.type ?? ''}`.trim();
  if (job.operation === 'CAN_CONFIG') return `CAN configuration${spec?.config?.nominalBitrate ? ` at ${spec.config.nominalBitrate.toLocaleString()} bit/s` : ''}`;
  return 'Firmware update';
}

function Actions({ job }: { job: Job }) {
  const pause = useJobAction(job.id, 'pause');
  const resume = useJobAction(job.id, 'resume');
  const cancel = useJobAction(job.id, 'cancel');
  if (FINAL.has(job.status)) return null;
  return (
    <div className="actions">
      {(job.status === 'IN_PROGRESS' || job.status === 'SCHEDULED') && (
        <Button onClick={() => pause.mutate()} busy={pause.isPending}>
          Pause
        </Button>
      )}
      {job.status === 'PAUSED' && (
        <Button variant="primary" onClick={() => resume.mutate()} busy={resume.isPending}>
          Resume
        </Button>
      )}
      <ConfirmButton label="Cancel job…" title="Cancel this job?" confirmLabel="Cancel job" busy={cancel.isPending} onConfirm={() => cancel.mutate()}>
        <p>Nothing more is handed out; what is still queued is cancelled. Commands already delivered finish.</p>
      </ConfirmButton>
      <ErrorMessage error={pause.error ?? resume.error ?? cancel.error} />
    </div>
  );
}

export function JobDetailPage() {
  useTitle('Job');
  const { id = '' } = useParams();
  const { role } = useOrg();
  const job = useJob(id);
  const executions = useJobExecutions(id);
  const dongles = useDongles();
  const names = useMemo(() => new Map((dongles.data ?? []).map((d) => [d.id, d.name ?? d.deviceId])), [dongles.data]);
  if (job.isPending) return <Loading label="Loading the job…" />;
  if (!job.data) {
    return (
      <section>
        <h1>Job</h1>
        <ErrorMessage error={job.error} />
        <Link to="/jobs">Back to the jobs</Link>
      </section>
    );
  }
  const j = job.data;
  const rollout = j.rollout as { maxPerMinute?: number; maxInFlight?: number; stages?: Array<{ percent: number; minSuccessPercent?: number }> } | null;
  const rules = (j.abortRules as Array<{ failureType: string; minExecuted: number; thresholdPercent: number }> | null) ?? [];
  const rows = executions.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <section>
      <p>
        <Link to="/jobs">← Jobs</Link>
      </p>
      <div className="page-head">
        <h1>
          {j.name ?? `Job ${j.id.slice(0, 8)}`} <JobStatusBadge status={j.status} />
        </h1>
        {may(role, 'fleet.operate') && <Actions job={j} />}
      </div>
      {j.statusReason && <p data-testid="job-reason">{j.statusReason}</p>}
      <ErrorMessage error={job.error} />
      <dl className="facts">
        <div><dt>Operation</dt><dd>{describe(j)}</dd></div>
        <div><dt>Targets</dt><dd>{j.selector ? <><span className="mono">{j.selector}</span> → </> : null}{j.targetCount} dongles</dd></div>
        <div><dt>Rollout</dt><dd>{rollout?.maxPerMinute ?? 60}/min, at most {rollout?.maxInFlight ?? 50} in flight</dd></div>
        <div><dt>Stages</dt><dd>{rollout?.stages?.length ? rollout.stages.map((s, i) => `${i === j.currentStage ? '▶ ' : ''}${s.percent} % (≥ ${s.minSuccessPercent ?? 100} % ok)`).join(', ') : 'one stage'}</dd></div>
        <div><dt>Abort rules</dt><dd>{rules.length ? rules.map((r) => `${r.failureType} ≥ ${r.thresholdPercent} % after ${r.minExecuted}`).join('; ') : 'none'}</dd></div>
        <div><dt>Timeout per dongle</dt><dd>{j.executionTimeoutSeconds} s</dd></div>
        <div><dt>Started</dt><dd>{dateTime(j.startedAt)}</dd></div>
        <div><dt>Finished</dt><dd>{dateTime(j.finishedAt)}</dd></div>
        <div><dt>Deadline</dt><dd>{dateTime(j.deadline)}</dd></div>
      </dl>
      <h2>Progress</h2>
      <JobProgress job={j} detailed />
      <h2>Executions</h2>
      <ErrorMessage error={executions.error} />
      {executions.isPending ? (
        <Loading />
      ) : rows.length === 0 ? (
        <p className="muted">{j.status === 'SCHEDULED' ? 'The targets are resolved when the job starts.' : 'No execution.'}</p>
      ) : (
        <div className="table-wrap" role="region" aria-label="Executions" tabIndex={0}>
          <table className="table" data-testid="executions-table">
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">Dongle</th>
                <th scope="col">Status</th>
                <th scope="col">Reason</th>
                <th scope="col">Handed out</th>
                <th scope="col">Finished</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((e) => (
                <tr key={e.dongleId} data-status={e.status}>
                  <td>{e.seq + 1}</td>
                  <td>
                    <Link to={`/dongles/${e.dongleId}`}>{names.get(e.dongleId) ?? e.dongleId.slice(0, 8)}</Link>
                  </td>
                  <td>
                    <Badge tone={executionTone(e.status)}>{executionLabel[e.status]}</Badge>
                  </td>
                  <td>{e.reason ?? '—'}</td>
                  <td>{dateTime(e.dispatchedAt)}</td>
                  <td>{dateTime(e.finishedAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {executions.hasNextPage && (
        <Button onClick={() => executions.fetchNextPage()} busy={executions.isFetchingNextPage}>
          Show more executions
        </Button>
      )}
    </section>
  );
}
