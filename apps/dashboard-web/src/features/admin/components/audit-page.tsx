// Admin: the audit log. Filters, keyset paging ("Load older entries") and export of every
// matching row (the export is a plain download link: same origin, the session cookie suffices).
import { useState, type FormEvent } from 'react';
import { Button } from '../../../components/ui/button.tsx';
import { Empty, ErrorMessage, Loading } from '../../../components/ui/feedback.tsx';
import { Field } from '../../../components/ui/field.tsx';
import { api, type AuditFilters } from '../../../lib/api.ts';
import { dateTime } from '../../../lib/format.ts';
import { useAuditLog } from '../api.ts';
import { useTitle } from '../../../lib/use-title.ts';

const FILTERS: Array<{ name: keyof AuditFilters; label: string; type?: string; hint?: string }> = [
  { name: 'action', label: 'Action', hint: 'e.g. dongle.claim' },
  { name: 'targetType', label: 'Target type', hint: 'e.g. dongle, user' },
  { name: 'targetId', label: 'Target id' },
  { name: 'actorId', label: 'Actor id (user or agent)' },
  { name: 'from', label: 'From', type: 'datetime-local' },
  { name: 'to', label: 'To', type: 'datetime-local' },
];

function filtersFrom(data: FormData): AuditFilters {
  const out: AuditFilters = {};
  for (const f of FILTERS) {
    const value = String(data.get(f.name) ?? '').trim();
    if (!value) continue;
    out[f.name] = f.type === 'datetime-local' ? new Date(value).toISOString() : value;
  }
  return out;
}

export function AuditPage() {
  useTitle('Audit log');
  const [filters, setFilters] = useState<AuditFilters>({});
  const log = useAuditLog(filters);
  const rows = log.data?.pages.flatMap((p) => p.items) ?? [];

  return (
    <section>
      <h1>Audit log</h1>
      <form
        className="filters"
        role="search"
        onSubmit={(e: FormEvent<HTMLFormElement>) => {
          e.preventDefault();
          setFilters(filtersFrom(new FormData(e.currentTarget)));
        }}
      >
        {FILTERS.map((f) => (
          <Field key={f.name} label={f.label} name={f.name} type={f.type ?? 'text'} placeholder={f.hint} />
        ))}
        <Button type="submit" variant="primary">Apply filters</Button>
      </form>
      <p className="actions">
        Export the matching entries: <a className="btn btn-secondary" href={api.auditExportUrl(filters, 'csv')} download>CSV</a>{' '}
        <a className="btn btn-secondary" href={api.auditExportUrl(filters, 'ndjson')} download>NDJSON</a>
      </p>
      <ErrorMessage error={log.error} />
      {log.isPending ? (
        <Loading />
      ) : rows.length === 0 ? (
        <Empty>No audit entry matches these filters.</Empty>
      ) : (
        <div className="table-wrap" role="region" aria-label="Audit entries" tabIndex={0}>
          <table className="table" data-testid="audit-table">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Actor</th>
                <th scope="col">Action</th>
                <th scope="col">Target</th>
                <th scope="col">Result</th>
                <th scope="col">Details</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.id}>
                  <td>{dateTime(r.createdAt)}</td>
                  <td>{r.actorType} <span className="mono small">{r.actorId ?? ''}</span></td>
                  <td className="mono">{r.action}</td>
                  <td>{r.targetType} <span className="mono small">{r.targetId ?? ''}</span></td>
                  <td>{r.result}</td>
                  <td className="mono small">{r.details ? JSON.stringify(r.details) : ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {log.hasNextPage && (
        <Button busy={log.isFetchingNextPage} onClick={() => log.fetchNextPage()}>
          Load older entries
        </Button>
      )}
    </section>
  );
}
