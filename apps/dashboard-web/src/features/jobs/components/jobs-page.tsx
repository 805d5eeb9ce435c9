// The organization's jobs, newest first, with their progress; updated by job.* events.
import { Link } from 'react-router';
import { Button } from '../../../components/ui/button.tsx';
import { Empty, ErrorMessage, Loading } from '../../../components/ui/feedback.tsx';
import { dateTime } from '../../../lib/format.ts';
import { may } from '../../../lib/permissions.ts';
import { useTitle } from '../../../lib/use-title.ts';
import { useOrg } from '../../orgs/org-context.tsx';
import { useJobs } from '../api.ts';
import { JobProgress, JobStatusBadge, operationLabel } from './job-progress.tsx';

export function JobsPage() {
  useTitle('Jobs');
  const { role } = useOrg();
  const jobs = useJobs();
  const rows = jobs.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <section>
      <div className="page-head">
        <h1>Jobs</h1>
        {may(role, 'fleet.operate') && (
          <Link className="btn btn-primary" to="/jobs/new">
            New job
          </Link>
        )}
      </div>
      <p className="muted">One operation (a command, a CAN configuration, a firmware update) over many dongles, handed out at a controlled rate, in stages, with abort rules.</p>
      <ErrorMessage error={jobs.error} />
      {jobs.isPending ? (
        <Loading />
      ) : rows.length === 0 ? (
        <Empty>No job yet.</Empty>
      ) : (
        <div className="table-wrap" role="region" aria-label="Jobs" tabIndex={0}>
          <table className="table" data-testid="jobs-table">
            <thead>
              <tr>
                <th scope="col">Job</th>
                <th scope="col">Operation</th>
                <th scope="col">Status</th>
                <th scope="col">Progress</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((j) => (
                <tr key={j.id} data-status={j.status}>
                  <td>
                    <Link to={`/jobs/${j.id}`}>{j.name ?? `Job ${j.id.slice(0, 8)}`}</Link>
                  </td>
                  <td>{operationLabel[j.operation]}</td>
                  <td>
                    <JobStatusBadge status={j.status} />
                  </td>
                  <td>
                    <JobProgress job={j} />
                  </td>
                  <td>{dateTime(j.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {jobs.hasNextPage && (
        <Button onClick={() => jobs.fetchNextPage()} busy={jobs.isFetchingNextPage}>
          Show more jobs
        </Button>
      )}
    </section>
  );
}
