// API keys of the selected organization: create one (scope up to my role, expiry), shown once
// with a copy button; the list with last use; revoke. Admins see and revoke everyone's keys.
import { useState, type FormEvent } from 'react';
import { Badge } from '../../../components/ui/badge.tsx';
import { Button } from '../../../components/ui/button.tsx';
import { ConfirmButton } from '../../../components/ui/confirm.tsx';
import { CopyButton } from '../../../components/ui/copy.tsx';
import { Empty, ErrorMessage, Loading } from '../../../components/ui/feedback.tsx';
import { Field, SelectField } from '../../../components/ui/field.tsx';
import { api, ApiError, type ApiKey, type ApiKeyScope, type NewApiKey } from '../../../lib/api.ts';
import { dateTime, timeAgo } from '../../../lib/format.ts';
import { may, scopesFor } from '../../../lib/permissions.ts';
import { useTitle } from '../../../lib/use-title.ts';
import { useSession } from '../../auth/api.ts';
import { useApiKeys, useMembers, useOrgMutation } from '../api.ts';
import { useOrg } from '../org-context.tsx';

const scopeLabel: Record<ApiKeyScope, string> = { read: 'Read (viewer)', operate: 'Operate (operator)', admin: 'Admin' };

function keyStatus(key: ApiKey, now = Date.now()) {
  if (key.revokedAt) return <Badge tone="neutral">revoked</Badge>;
  if (new Date(key.expiresAt).getTime() <= now) return <Badge tone="neutral">expired</Badge>;
  return <Badge tone="ok">active</Badge>;
}

function CreateKey({ onCreated }: { onCreated: (key: NewApiKey) => void }) {
  const { role } = useOrg();
  const create = useOrgMutation((orgId, input: { name: string; scope: ApiKeyScope; expiresInDays: number }) => api.createApiKey(orgId, input));
  const fields = create.error instanceof ApiError ? create.error.fieldErrors() : {};
  const scopes = scopesFor(role);
  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const data = new FormData(form);
    create.mutate(
      { name: String(data.get('name')).trim(), scope: data.get('scope') as ApiKeyScope, expiresInDays: Number(data.get('expiresInDays')) },
      { onSuccess: (key) => (onCreated(key), form.reset()) },
    );
  }
  return (
    <form className="card" onSubmit={submit} aria-label="Create an API key">
      <h2>Create an API key</h2>
      <div className="inline-form">
        <Field label="Name" name="name" required maxLength={100} placeholder="ci-deploy" error={fields.name} />
        <SelectField label="Scope" name="scope" defaultValue={scopes.includes('operate') ? 'operate' : 'read'} error={fields.scope}>
          {scopes.map((s) => (
            <option key={s} value={s}>
              {scopeLabel[s]}
            </option>
          ))}
        </SelectField>
        <Field label="Expires in (days)" name="expiresInDays" type="number" min={1} max={365} defaultValue={90} required error={fields.expiresInDays} />
        <Button type="submit" variant="primary" busy={create.isPending}>
          Create key
        </Button>
      </div>
      <p className="muted small">A key acts as you, never with more than your current role in this organization. Use it as <code>Authorization: Bearer fk_…</code>.</p>
      <ErrorMessage error={create.error && !Object.keys(fields).length ? create.error : null} />
    </form>
  );
}

function ShownOnce({ created, onDone }: { created: NewApiKey; onDone: () => void }) {
  return (
    <div className="alert alert-ok" role="status" data-testid="new-api-key">
      <p>
        <strong>Key “{created.name}” created.</strong> Copy it now: it is shown only this once.
      </p>
      <div className="secret">
        <code data-testid="api-key-secret">{created.key}</code>
        <CopyButton text={created.key} label="Copy key" />
        <Button onClick={onDone}>Done</Button>
      </div>
    </div>
  );
}

function KeyRow({ apiKey, owner, mine }: { apiKey: ApiKey; owner: string; mine: boolean }) {
  const { role } = useOrg();
  const revoke = useOrgMutation((orgId) => api.revokeApiKey(orgId, apiKey.id));
  const usable = !apiKey.revokedAt && new Date(apiKey.expiresAt).getTime() > Date.now();
  return (
    <tr>
      <td>
        {apiKey.name}
        <ErrorMessage error={revoke.error} />
      </td>
      <td className="mono">{apiKey.prefix}…</td>
      <td>{scopeLabel[apiKey.scope]}</td>
      <td>{owner}</td>
      <td>{keyStatus(apiKey)}</td>
      <td>{dateTime(apiKey.expiresAt)}</td>
      <td>{apiKey.lastUsedAt ? `${timeAgo(apiKey.lastUsedAt)}${apiKey.lastUsedIp ? ` from ${apiKey.lastUsedIp}` : ''}` : 'never'}</td>
      <td className="row-actions">
        {usable && (mine || may(role, 'members.manage')) && (
          <ConfirmButton label="Revoke" title={`Revoke the key ${apiKey.name}?`} confirmLabel="Revoke key" busy={revoke.isPending} onConfirm={() => revoke.mutate(undefined)}>
            <p>Scripts using it get 401 from their next request.</p>
          </ConfirmButton>
        )}
      </td>
    </tr>
  );
}

export function ApiKeysPage() {
  useTitle('API keys');
  const { org, role } = useOrg();
  const me = useSession().data?.user;
  const keys = useApiKeys();
  const members = useMembers();
  const [created, setCreated] = useState<NewApiKey | null>(null);
  const emailOf = new Map((members.data ?? []).map((m) => [m.userId, m.email]));
  return (
    <section>
      <h1>API keys for {org.name}</h1>
      <p className="muted">{may(role, 'members.manage') ? "For scripts and CI. As an admin you see every member's keys." : 'For scripts and CI. You see your own keys.'}</p>
      {created && <ShownOnce created={created} onDone={() => setCreated(null)} />}
      <CreateKey onCreated={setCreated} />
      <ErrorMessage error={keys.error} />
      {keys.isPending ? (
        <Loading />
      ) : keys.data?.length === 0 ? (
        <Empty>No API key yet.</Empty>
      ) : (
        <div className="table-wrap" role="region" aria-label="API keys" tabIndex={0}>
          <table className="table" data-testid="api-keys-table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Key</th>
                <th scope="col">Scope</th>
                <th scope="col">Member</th>
                <th scope="col">Status</th>
                <th scope="col">Expires</th>
                <th scope="col">Last used</th>
                <th scope="col"><span className="sr-only">Actions</span></th>
              </tr>
            </thead>
            <tbody>
              {keys.data?.map((k) => (
                <KeyRow key={k.id} apiKey={k} mine={k.userId === me?.id} owner={k.userId === me?.id ? 'you' : (emailOf.get(k.userId) ?? 'a former member')} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
