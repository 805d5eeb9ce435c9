// Groups pair two active dongles. Create one, pause/resume it, rename it, delete it.
import { useMemo, useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { Badge } from '../../../components/ui/badge.tsx';
import { Button } from '../../../components/ui/button.tsx';
import { ConfirmButton } from '../../../components/ui/confirm.tsx';
import { Empty, ErrorMessage, Loading } from '../../../components/ui/feedback.tsx';
import { Field, SelectField } from '../../../components/ui/field.tsx';
import { api, ApiError, type Dongle, type Group } from '../../../lib/api.ts';
import { useDongles } from '../../dongles/api.ts';
import { useGroupMutation, useGroups } from '../api.ts';
import { useTitle } from '../../../lib/use-title.ts';

const label = (d: Dongle | undefined) => (d ? `${d.name ?? 'Unnamed'} (${d.deviceId})` : 'a released dongle');

function CreateGroup({ dongles }: { dongles: Dongle[] }) {
  const available = dongles.filter((d) => d.state === 'CLAIMED_ACTIVE' && !d.groupId);
  const create = useGroupMutation((orgId, input: { dongleAId: string; dongleBId: string; name?: string }) => api.createGroup(orgId, input));
  const fields = create.error instanceof ApiError ? create.error.fieldErrors() : {};

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const data = new FormData(form);
    const name = String(data.get('name') ?? '').trim();
    create.mutate({ dongleAId: String(data.get('dongleAId')), dongleBId: String(data.get('dongleBId')), ...(name ? { name } : {}) }, { onSuccess: () => form.reset() });
  }

  return (
    <form className="card" onSubmit={submit}>
      <h2>Pair two dongles</h2>
      {available.length < 2 ? (
        <p className="muted">Two active dongles that are not in a group are needed; you have {available.length}.</p>
      ) : (
        <>
          <div className="grid-2">
            <SelectField label="First dongle" name="dongleAId" required error={fields.dongleAId} defaultValue={available[0]?.id}>
              {available.map((d) => <option key={d.id} value={d.id}>{label(d)}</option>)}
            </SelectField>
            <SelectField label="Second dongle" name="dongleBId" required error={fields.dongleBId} defaultValue={available[1]?.id}>
              {available.map((d) => <option key={d.id} value={d.id}>{label(d)}</option>)}
            </SelectField>
          </div>
          <Field label="Group name (optional)" name="name" maxLength={100} error={fields.name} />
          <ErrorMessage error={create.error && Object.keys(fields).length === 0 ? create.error : null} />
          <Button type="submit" variant="primary" busy={create.isPending}>Create group</Button>
        </>
      )}
    </form>
  );
}

function GroupCard({ group, byId }: { group: Group; byId: Map<string, Dongle> }) {
  const update = useGroupMutation((orgId, change: { mode?: Group['mode']; name?: string }) => api.updateGroup(orgId, group.id, change));
  const remove = useGroupMutation((orgId) => api.deleteGroup(orgId, group.id));
  const [renaming, setRenaming] = useState(false);
  const title = group.name ?? 'Unnamed group';
  return (
    <li className="card">
      <h3>
        {title} <Badge tone={group.mode === 'ACTIVE' ? 'ok' : 'neutral'}>{group.mode === 'ACTIVE' ? 'Active' : 'Paused'}</Badge>
      </h3>
      <ul className="plain">
        {[group.dongleAId, group.dongleBId].map((id) => (
          <li key={id}><Link to={`/dongles/${id}`}>{label(byId.get(id))}</Link></li>
        ))}
      </ul>
      {renaming && (
        <form
          className="inline-form"
          onSubmit={(e) => {
            e.preventDefault();
            update.mutate({ name: String(new FormData(e.currentTarget).get('name')) }, { onSuccess: () => setRenaming(false) });
          }}
        >
          <Field label="Group name" name="name" defaultValue={group.name ?? ''} required maxLength={100} autoFocus />
          <Button type="submit" variant="primary" busy={update.isPending}>Save</Button>
          <Button onClick={() => setRenaming(false)}>Cancel</Button>
        </form>
      )}
      <ErrorMessage error={update.error ?? remove.error} />
      <div className="actions">
        <Button busy={update.isPending} onClick={() => update.mutate({ mode: group.mode === 'ACTIVE' ? 'PAUSED' : 'ACTIVE' })}>
          {group.mode === 'ACTIVE' ? 'Pause' : 'Resume'}
        </Button>
        {!renaming && <Button onClick={() => setRenaming(true)}>Rename</Button>}
        <ConfirmButton label="Delete" title={`Delete ${title}?`} confirmLabel="Delete group" busy={remove.isPending} onConfirm={() => remove.mutate(undefined)}>
          <p>The two dongles stay claimed and stop being paired.</p>
        </ConfirmButton>
      </div>
    </li>
  );
}

export function GroupsPage() {
  useTitle('Groups');
  const groups = useGroups();
  const dongles = useDongles();
  const byId = useMemo(() => new Map((dongles.data ?? []).map((d) => [d.id, d])), [dongles.data]);
  return (
    <section>
      <h1>Groups</h1>
      {dongles.data && <CreateGroup dongles={dongles.data} />}
      <h2>My groups</h2>
      <ErrorMessage error={groups.error ?? dongles.error} />
      {groups.isPending ? (
        <Loading />
      ) : groups.data?.length === 0 ? (
        <Empty>No group yet.</Empty>
      ) : (
        <ul className="cards" aria-label="Groups">
          {groups.data?.map((g) => <GroupCard key={g.id} group={g} byId={byId} />)}
        </ul>
      )}
    </section>
  );
}
