// Agents: enroll one (a one-time code and the agent-sim command line to paste), see which are
// online, rename, delete.
import { useMutation } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { OnlineBadge } from '../../../components/ui/badge.tsx';
import { Button } from '../../../components/ui/button.tsx';
import { ConfirmButton } from '../../../components/ui/confirm.tsx';
import { CopyButton } from '../../../components/ui/copy.tsx';
import { Empty, ErrorMessage, Loading } from '../../../components/ui/feedback.tsx';
import { Field } from '../../../components/ui/field.tsx';
import { api, ApiError, type Agent } from '../../../lib/api.ts';
import { dateTime, timeAgo } from '../../../lib/format.ts';
import { useAgentMutation, useAgents } from '../api.ts';
import { useOrg } from '../../orgs/org-context.tsx';
import { may } from '../../../lib/permissions.ts';
import { useTitle } from '../../../lib/use-title.ts';

export const agentSimCommand = (code: string, origin = window.location.origin) => `npm start -w apps/agent-sim -- --url ${origin} --code ${code} --dongles 2`;

function Enrollment() {
  const { orgId } = useOrg();
  const create = useMutation({ mutationFn: () => api.createEnrollmentCode(orgId) });
  const command = create.data ? agentSimCommand(create.data.code) : null;
  return (
    <div className="card">
      <h2>Enroll an agent</h2>
      <p className="muted">A one-time code, valid for 10 minutes. Run the agent with it on the computer the dongles are plugged into.</p>
      <Button variant="primary" busy={create.isPending} onClick={() => create.mutate()}>
        {create.data ? 'New enrollment code' : 'Create an enrollment code'}
      </Button>
      <ErrorMessage error={create.error} />
      {create.data && command && (
        <div className="enroll">
          <p>
            Code <strong className="mono" data-testid="enrollment-code">{create.data.code}</strong>, expires {dateTime(create.data.expiresAt)}.
          </p>
          <p>With the simulated agent from this repository:</p>
          <pre className="command" data-testid="agent-command">
            <code>{command}</code>
          </pre>
          <CopyButton text={command} label="Copy command" />
        </div>
      )}
    </div>
  );
}

function AgentRow({ agent, manage }: { agent: Agent; manage: boolean }) {
  const [editing, setEditing] = useState(false);
  const rename = useAgentMutation((orgId, name: string) => api.renameAgent(orgId, agent.id, name));
  const remove = useAgentMutation((orgId) => api.deleteAgent(orgId, agent.id));
  const fields = rename.error instanceof ApiError ? rename.error.fieldErrors() : {};

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    rename.mutate(String(new FormData(event.currentTarget).get('name')), { onSuccess: () => setEditing(false) });
  }

  return (
    <tr>
      <td>
        {editing ? (
          <form onSubmit={submit} className="inline-form">
            <Field label={`New name for ${agent.name}`} name="name" defaultValue={agent.name} required maxLength={100} autoFocus error={fields.name} />
            <Button type="submit" variant="primary" busy={rename.isPending}>Save</Button>
            <Button onClick={() => setEditing(false)}>Cancel</Button>
          </form>
        ) : (
          agent.name
        )}
        <ErrorMessage error={rename.error && !fields.name ? rename.error : null} />
        <ErrorMessage error={remove.error} />
      </td>
      <td>{agent.hostname ?? '—'}</td>
      <td><OnlineBadge online={agent.online} /></td>
      <td>{timeAgo(agent.lastSeenAt)}</td>
      <td>{agent.version ?? '—'}</td>
      <td className="row-actions">
        {manage && !editing && <Button onClick={() => setEditing(true)} aria-label={`Rename ${agent.name}`}>Rename</Button>}
        {manage && <ConfirmButton label="Delete" title={`Delete ${agent.name}?`} confirmLabel="Delete agent" busy={remove.isPending} onConfirm={() => remove.mutate(undefined)}>
          <p>Its token stops working at once. Its dongles stay yours, but cannot be reached until another agent of the organization reports them.</p>
        </ConfirmButton>}
      </td>
    </tr>
  );
}

export function AgentsPage() {
  useTitle('Agents');
  const agents = useAgents();
  const { role } = useOrg();
  const manage = may(role, 'agents.manage');
  return (
    <section>
      <h1>Agents</h1>
      {manage ? <Enrollment /> : <p className="muted">Owners and admins of the organization enroll, rename and delete agents.</p>}
      <h2>The organization's agents</h2>
      <ErrorMessage error={agents.error} />
      {agents.isPending ? (
        <Loading />
      ) : agents.data?.length === 0 ? (
        <Empty>No agent yet. Create an enrollment code above and start an agent with it.</Empty>
      ) : (
        <div className="table-wrap" role="region" aria-label="Agents" tabIndex={0}>
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Host</th>
                <th scope="col">Status</th>
                <th scope="col">Last seen</th>
                <th scope="col">Version</th>
                <th scope="col"><span className="sr-only">Actions</span></th>
              </tr>
            </thead>
            <tbody>
              {agents.data?.map((a) => <AgentRow key={a.id} agent={a} manage={manage} />)}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
