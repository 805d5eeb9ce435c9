// One dongle: its state and actions (rename, release), CAN configuration, command console and
// live command history.
import { useState, type FormEvent } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { Badge, OnlineBadge } from '../../../components/ui/badge.tsx';
import { Button } from '../../../components/ui/button.tsx';
import { ConfirmButton } from '../../../components/ui/confirm.tsx';
import { ErrorMessage, Loading } from '../../../components/ui/feedback.tsx';
import { Field } from '../../../components/ui/field.tsx';
import { api, ApiError, type Dongle } from '../../../lib/api.ts';
import { dongleOnline, stateLabel, timeAgo } from '../../../lib/format.ts';
import { useAgents } from '../../agents/api.ts';
import { CanConfigSection } from '../../can-config/components/can-config-form.tsx';
import { CommandConsole } from '../../commands/components/command-console.tsx';
import { CommandHistory } from '../../commands/components/command-history.tsx';
import { useGroups } from '../../groups/api.ts';
import { useDongle, useDongleAction } from '../api.ts';
import { ConfigVersions, stateTone } from './fleet-page.tsx';
import { TagsSection } from './tags-section.tsx';
import { useOrg } from '../../orgs/org-context.tsx';
import { may } from '../../../lib/permissions.ts';
import { useTitle } from '../../../lib/use-title.ts';

function Rename({ dongle }: { dongle: Dongle }) {
  const [open, setOpen] = useState(false);
  const rename = useDongleAction((orgId, name: string | null) => api.renameDongle(orgId, dongle.id, name));
  const fields = rename.error instanceof ApiError ? rename.error.fieldErrors() : {};
  if (!open) return <Button onClick={() => setOpen(true)}>Rename</Button>;
  return (
    <form
      className="inline-form"
      onSubmit={(e: FormEvent<HTMLFormElement>) => {
        e.preventDefault();
        const name = String(new FormData(e.currentTarget).get('name')).trim();
        rename.mutate(name || null, { onSuccess: () => setOpen(false) });
      }}
    >
      <Field label="Name (empty clears it)" name="name" defaultValue={dongle.name ?? ''} maxLength={100} autoFocus error={fields.name} />
      <Button type="submit" variant="primary" busy={rename.isPending}>Save</Button>
      <Button onClick={() => setOpen(false)}>Cancel</Button>
      <ErrorMessage error={rename.error && !fields.name ? rename.error : null} />
    </form>
  );
}

export function DonglePage() {
  useTitle('Dongle');
  const { id = '' } = useParams();
  const dongle = useDongle(id);
  const agents = useAgents();
  const groups = useGroups();
  const navigate = useNavigate();
  const release = useDongleAction((orgId) => api.releaseDongle(orgId, id));
  const operate = may(useOrg().role, 'fleet.operate');

  if (dongle.isPending) return <Loading label="Loading the dongle…" />;
  if (!dongle.data) {
    return (
      <section>
        <h1>Dongle</h1>
        <ErrorMessage error={dongle.error} />
        <Link to="/">Back to the fleet</Link>
      </section>
    );
  }
  const d = dongle.data;
  const active = d.state === 'CLAIMED_ACTIVE';
  const agent = agents.data?.find((a) => a.id === d.lastSeenAgentId);
  const group = groups.data?.find((g) => g.id === d.groupId);
  return (
    <section>
      <p><Link to="/">← Fleet</Link></p>
      <div className="page-head">
        <h1>
          {d.name ?? 'Unnamed dongle'} <Badge tone={stateTone(d.state)}>{stateLabel[d.state] ?? d.state}</Badge>
        </h1>
        <div className="actions">
          {operate && <Rename dongle={d} />}
          {operate && (d.state === 'CLAIMED_ACTIVE' || d.state === 'CLAIM_PENDING') && (
            <ConfirmButton label="Release…" title="Release this dongle?" confirmLabel="Release" busy={release.isPending} onConfirm={() => release.mutate(undefined, { onSuccess: () => navigate('/') })}>
              <p>It leaves its group now, and stops being yours once its agent has wiped its token. Its CAN configuration is discarded.</p>
            </ConfirmButton>
          )}
        </div>
      </div>
      <ErrorMessage error={dongle.error ?? release.error} />
      <dl className="facts">
        <div><dt>Device id</dt><dd className="mono">{d.deviceId}</dd></div>
        <div><dt>Connection</dt><dd><OnlineBadge online={dongleOnline(d.lastSeenAt)} /> last seen {timeAgo(d.lastSeenAt)}</dd></div>
        <div><dt>Agent</dt><dd>{agent?.name ?? '—'}</dd></div>
        <div><dt>Group</dt><dd>{group ? <Link to="/groups">{group.name ?? 'Unnamed group'}</Link> : '—'}</dd></div>
        <div><dt>Firmware</dt><dd>{d.firmwareVersion ?? '—'}{d.chipFamily ? ` (${d.chipFamily}/${d.boardRevision ?? '?'})` : ''}</dd></div>
        <div><dt>CAN config (desired / applied)</dt><dd><ConfigVersions dongle={d} /></dd></div>
      </dl>
      {d.state === 'CLAIM_PENDING' && <p className="muted">Waiting for the agent to hand the dongle its token; this takes a few seconds while the agent is online.</p>}
      <div className="two-col">
        <div>
          {operate ? <CommandConsole dongleId={d.id} active={active} /> : <p className="muted">Viewers see the commands; operators, admins and owners send them.</p>}
          <CommandHistory dongleId={d.id} />
        </div>
        <div>
          <TagsSection dongle={d} edit={operate} />
          <CanConfigSection dongleId={d.id} active={active && operate} />
        </div>
      </div>
    </section>
  );
}
