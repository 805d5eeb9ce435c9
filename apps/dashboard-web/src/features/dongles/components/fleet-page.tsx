// The fleet overview: every dongle with its state, liveness, agent, group, CAN config versions
// and firmware. Search, filter and sort happen in the browser over the whole list.
import { useMemo, useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { Badge, OnlineBadge } from '../../../components/ui/badge.tsx';
import { Empty, ErrorMessage, Loading } from '../../../components/ui/feedback.tsx';
import { Field, SelectField } from '../../../components/ui/field.tsx';
import type { Dongle, DongleState } from '../../../lib/api.ts';
import { dongleOnline, stateLabel, timeAgo } from '../../../lib/format.ts';
import { useAgents } from '../../agents/api.ts';
import { useGroups } from '../../groups/api.ts';
import { useDongles } from '../api.ts';
import { useTitle } from '../../../lib/use-title.ts';
import { Button } from '../../../components/ui/button.tsx';
import { ApiError } from '../../../lib/api.ts';
import { may } from '../../../lib/permissions.ts';
import { useOrg } from '../../orgs/org-context.tsx';

type SortKey = 'name' | 'deviceId' | 'state' | 'lastSeenAt' | 'firmwareVersion';
const columns: Array<{ key: SortKey; label: string }> = [
  { key: 'name', label: 'Name' },
  { key: 'deviceId', label: 'Device id' },
  { key: 'state', label: 'State' },
  { key: 'lastSeenAt', label: 'Last seen' },
  { key: 'firmwareVersion', label: 'Firmware' },
];

export const stateTone = (state: DongleState) => (state === 'CLAIMED_ACTIVE' ? 'ok' : state === 'UNCLAIMED' ? 'neutral' : 'warn');

export function ConfigVersions({ dongle }: { dongle: Pick<Dongle, 'canConfigVersion' | 'canConfigAppliedVersion'> }) {
  const inSync = dongle.canConfigVersion === dongle.canConfigAppliedVersion;
  return (
    <span>
      v{dongle.canConfigVersion} / v{dongle.canConfigAppliedVersion}{' '}
      {inSync ? <span className="sr-only">(applied)</span> : <Badge tone="warn">applying</Badge>}
    </span>
  );
}

export function FleetPage() {
  useTitle('Fleet');
  const [selector, setSelector] = useState('');
  const dongles = useDongles(selector);
  const { org, role } = useOrg();
  const agents = useAgents();
  const groups = useGroups();
  const [search, setSearch] = useState('');
  const [state, setState] = useState('');
  const [online, setOnline] = useState('');
  const [sort, setSort] = useState<{ key: SortKey; dir: 1 | -1 }>({ key: 'name', dir: 1 });

  const agentName = useMemo(() => new Map((agents.data ?? []).map((a) => [a.id, a.name])), [agents.data]);
  const groupName = useMemo(() => new Map((groups.data ?? []).map((g) => [g.id, g.name ?? 'Unnamed group'])), [groups.data]);

  const rows = useMemo(() => {
    const needle = search.trim().toLowerCase();
    const now = Date.now();
    return (dongles.data ?? [])
      .filter((d) => !needle || (d.name ?? '').toLowerCase().includes(needle) || d.deviceId.includes(needle))
      .filter((d) => !state || d.state === state)
      .filter((d) => !online || String(dongleOnline(d.lastSeenAt, now)) === online)
      .sort((a, b) => {
        const av = (sort.key === 'name' ? (a.name ?? a.deviceId) : a[sort.key]) ?? '';
        const bv = (sort.key === 'name' ? (b.name ?? b.deviceId) : b[sort.key]) ?? '';
        return av < bv ? -sort.dir : av > bv ? sort.dir : 0;
      });
  }, [dongles.data, search, state, online, sort]);

  const selectorError = dongles.error instanceof ApiError && dongles.error.status === 422 ? [dongles.error.message, ...dongles.error.details.map((d) => d.message)].join(' ') : undefined;
  const toggleSort = (key: SortKey) => setSort((s) => ({ key, dir: s.key === key ? (-s.dir as 1 | -1) : 1 }));

  return (
    <section>
      <div className="page-head">
        <h1>Fleet <span className="muted small">of {org.name}</span></h1>
        {may(role, 'fleet.operate') && (
          <Link className="btn btn-primary" to="/claim">
            Claim a dongle
          </Link>
        )}
      </div>
      <div className="filters" role="search">
        <Field label="Search" type="search" placeholder="Name or device id" value={search} onChange={(e) => setSearch(e.target.value)} />
        <SelectField label="State" value={state} onChange={(e) => setState(e.target.value)}>
          <option value="">All states</option>
          {Object.entries(stateLabel).map(([value, label]) => (
            <option key={value} value={value}>
              {label}
            </option>
          ))}
        </SelectField>
        <SelectField label="Connection" value={online} onChange={(e) => setOnline(e.target.value)}>
          <option value="">Online and offline</option>
          <option value="true">Online</option>
          <option value="false">Offline</option>
        </SelectField>
      </div>
      <form
        className="filters"
        aria-label="Filter by tags"
        onSubmit={(e: FormEvent<HTMLFormElement>) => {
          e.preventDefault();
          setSelector(String(new FormData(e.currentTarget).get('selector')).trim());
        }}
      >
        <Field label="Tag selector" name="selector" placeholder="env=prod,site=lab-2,!retired" className="mono" error={selectorError} />
        <Button type="submit">Apply selector</Button>
      </form>
      <ErrorMessage error={selectorError ? null : dongles.error} />
      {dongles.isPending ? (
        <Loading label="Loading your dongles…" />
      ) : dongles.data?.length === 0 && selector ? (
        <Empty>No dongle has tags matching {selector}.</Empty>
      ) : dongles.data?.length === 0 ? (
        <Empty>
          You have no dongles yet. <Link to="/agents">Enroll an agent</Link>, plug a dongle into its computer, then <Link to="/claim">claim it</Link>.
        </Empty>
      ) : rows.length === 0 ? (
        <Empty>No dongle matches these filters.</Empty>
      ) : (
        <div className="table-wrap" role="region" aria-label="Dongles" tabIndex={0}>
          <table className="table" data-testid="fleet-table">
            <thead>
              <tr>
                {columns.map((c) => (
                  <th key={c.key} aria-sort={sort.key === c.key ? (sort.dir === 1 ? 'ascending' : 'descending') : undefined} scope="col">
                    <button type="button" className="sort" onClick={() => toggleSort(c.key)}>
                      {c.label}
                      <span aria-hidden="true">{sort.key === c.key ? (sort.dir === 1 ? ' ▲' : ' ▼') : ''}</span>
                    </button>
                  </th>
                ))}
                <th scope="col">Online</th>
                <th scope="col">Agent</th>
                <th scope="col">Group</th>
                <th scope="col">CAN config (desired / applied)</th>
                <th scope="col">Tags</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((d) => (
                <tr key={d.id}>
                  <td>
                    <Link to={`/dongles/${d.id}`}>{d.name ?? 'Unnamed'}</Link>
                  </td>
                  <td className="mono">{d.deviceId}</td>
                  <td>
                    <Badge tone={stateTone(d.state)}>{stateLabel[d.state] ?? d.state}</Badge>
                  </td>
                  <td>{timeAgo(d.lastSeenAt)}</td>
                  <td>{d.firmwareVersion ?? '—'}</td>
                  <td>
                    <OnlineBadge online={dongleOnline(d.lastSeenAt)} />
                  </td>
                  <td>{d.lastSeenAgentId ? (agentName.get(d.lastSeenAgentId) ?? '—') : '—'}</td>
                  <td>{d.groupId ? (groupName.get(d.groupId) ?? 'Grouped') : '—'}</td>
                  <td>
                    <ConfigVersions dongle={d} />
                  </td>
                  <td className="mono small">{Object.entries(d.tags ?? {}).map(([k, v]) => `${k}=${v}`).join(', ') || '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <p className="muted">
        {rows.length} of {dongles.data?.length ?? 0} dongles shown.
      </p>
    </section>
  );
}
