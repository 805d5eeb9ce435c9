// Members of the selected organization and its invitations. What my role may not do is hidden
// or disabled (lib/permissions.ts); the server still decides and its refusal is shown.
import { useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { Badge } from '../../../components/ui/badge.tsx';
import { Button } from '../../../components/ui/button.tsx';
import { ConfirmButton } from '../../../components/ui/confirm.tsx';
import { Empty, ErrorMessage, Loading, Notice } from '../../../components/ui/feedback.tsx';
import { Field, SelectField } from '../../../components/ui/field.tsx';
import { api, ApiError, type Invitation, type InviteRole, type Member, type OrgRole } from '../../../lib/api.ts';
import { dateTime } from '../../../lib/format.ts';
import { may, roleLabel } from '../../../lib/permissions.ts';
import { useTitle } from '../../../lib/use-title.ts';
import { useSession } from '../../auth/api.ts';
import { useInvitations, useMembers, useOrgMutation } from '../api.ts';
import { useOrg } from '../org-context.tsx';

const ROLES: OrgRole[] = ['owner', 'admin', 'operator', 'viewer'];
const INVITE_ROLES: InviteRole[] = ['admin', 'operator', 'viewer'];
const statusTone = { pending: 'warn', accepted: 'ok', revoked: 'neutral', expired: 'neutral' } as const;

function MemberRow({ member, me }: { member: Member; me: boolean }) {
  const { role } = useOrg();
  const changeRole = useOrgMutation((orgId, next: OrgRole) => api.changeRole(orgId, member.userId, next));
  const remove = useOrgMutation((orgId) => api.removeMember(orgId, member.userId));
  // Admins manage members; only an owner changes or removes an owner, or makes one.
  const manage = may(role, 'members.manage') && !me && (member.role !== 'owner' || role === 'owner');
  const choices = ROLES.filter((r) => r !== 'owner' || role === 'owner');
  return (
    <tr>
      <td>
        {member.email} {me && <Badge tone="neutral">you</Badge>}
        <ErrorMessage error={changeRole.error ?? remove.error} />
      </td>
      <td>
        {manage ? (
          <SelectField label={`Role of ${member.email}`} className="compact" value={member.role} disabled={changeRole.isPending} onChange={(e) => changeRole.mutate(e.target.value as OrgRole)}>
            {choices.map((r) => (
              <option key={r} value={r}>
                {roleLabel[r]}
              </option>
            ))}
          </SelectField>
        ) : (
          roleLabel[member.role]
        )}
      </td>
      <td>{dateTime(member.joinedAt)}</td>
      <td className="row-actions">
        {manage && (
          <ConfirmButton label="Remove" title={`Remove ${member.email}?`} confirmLabel="Remove member" busy={remove.isPending} onConfirm={() => remove.mutate(undefined)}>
            <p>Their access ends at their next request and their API keys for this organization are revoked. Agents they enrolled keep serving the organization.</p>
          </ConfirmButton>
        )}
      </td>
    </tr>
  );
}

function InviteForm() {
  const invite = useOrgMutation((orgId, input: { email: string; role: InviteRole }) => api.invite(orgId, input.email, input.role));
  const [sent, setSent] = useState<string | null>(null);
  const fields = invite.error instanceof ApiError ? invite.error.fieldErrors() : {};
  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const data = new FormData(form);
    const email = String(data.get('email')).trim();
    invite.mutate({ email, role: data.get('role') as InviteRole }, { onSuccess: () => (setSent(email), form.reset()) });
  }
  return (
    <form className="card" onSubmit={submit} aria-label="Invite someone">
      <h3>Invite someone</h3>
      <div className="inline-form">
        <Field label="Email address" name="email" type="email" required autoComplete="off" error={fields.email} />
        <SelectField label="Role" name="role" defaultValue="operator">
          {INVITE_ROLES.map((r) => (
            <option key={r} value={r}>
              {roleLabel[r]}
            </option>
          ))}
        </SelectField>
        <Button type="submit" variant="primary" busy={invite.isPending}>
          Send invitation
        </Button>
      </div>
      <p className="muted small">The link in the email is valid for 7 days and works once, for that address. Owners are made by transferring ownership.</p>
      <ErrorMessage error={invite.error && !fields.email ? invite.error : null} />
      {sent && !invite.error && <Notice>Invitation sent to {sent}.</Notice>}
    </form>
  );
}

function InvitationRow({ invitation }: { invitation: Invitation }) {
  const revoke = useOrgMutation((orgId) => api.revokeInvitation(orgId, invitation.id));
  const resend = useOrgMutation((orgId) => api.resendInvitation(orgId, invitation.id));
  const pending = invitation.status === 'pending';
  return (
    <tr>
      <td>
        {invitation.email}
        <ErrorMessage error={revoke.error ?? resend.error} />
        {resend.isSuccess && <span className="muted small"> Sent again.</span>}
      </td>
      <td>{roleLabel[invitation.role]}</td>
      <td>
        <Badge tone={statusTone[invitation.status]}>{invitation.status}</Badge>
      </td>
      <td>{dateTime(invitation.expiresAt)}</td>
      <td className="row-actions">
        {pending && (
          <>
            <Button onClick={() => resend.mutate(undefined)} busy={resend.isPending} aria-label={`Resend the invitation to ${invitation.email}`}>
              Resend
            </Button>
            <ConfirmButton label="Revoke" title={`Revoke the invitation to ${invitation.email}?`} confirmLabel="Revoke invitation" busy={revoke.isPending} onConfirm={() => revoke.mutate(undefined)}>
              <p>The emailed link stops working at once.</p>
            </ConfirmButton>
          </>
        )}
      </td>
    </tr>
  );
}

function Invitations() {
  const invitations = useInvitations(true);
  return (
    <section aria-labelledby="invitations-heading">
      <h2 id="invitations-heading">Invitations</h2>
      <InviteForm />
      <ErrorMessage error={invitations.error} />
      {invitations.isPending ? (
        <Loading />
      ) : invitations.data?.length === 0 ? (
        <Empty>No invitation sent yet.</Empty>
      ) : (
        <div className="table-wrap" role="region" aria-label="Invitations" tabIndex={0}>
          <table className="table" data-testid="invitations-table">
            <thead>
              <tr>
                <th scope="col">Email</th>
                <th scope="col">Role</th>
                <th scope="col">Status</th>
                <th scope="col">Expires</th>
                <th scope="col"><span className="sr-only">Actions</span></th>
              </tr>
            </thead>
            <tbody>
              {invitations.data?.map((i) => <InvitationRow key={i.id} invitation={i} />)}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function Leave() {
  const { org, orgs, select } = useOrg();
  const leave = useOrgMutation((orgId) => api.leave(orgId));
  return (
    <div className="card">
      <h2>Leave {org.name}</h2>
      <ConfirmButton
        label="Leave this organization…"
        title={`Leave ${org.name}?`}
        confirmLabel="Leave"
        busy={leave.isPending}
        onConfirm={() => leave.mutate(undefined, { onSuccess: () => select(orgs.find((o) => o.personal)?.id ?? '') })}
      >
        <p>You lose access at once, and your API keys for it are revoked.</p>
      </ConfirmButton>
      <ErrorMessage error={leave.error} />
    </div>
  );
}

export function MembersPage() {
  useTitle('Members');
  const { org, role } = useOrg();
  const me = useSession().data?.user.id;
  const members = useMembers();
  return (
    <section>
      <div className="page-head">
        <h1>Members of {org.name}</h1>
        <Link className="btn btn-secondary" to="/orgs/new">
          New organization
        </Link>
      </div>
      <p className="muted">
        You are {/^[aeiou]/i.test(role) ? 'an' : 'a'} {roleLabel[role].toLowerCase()} here.
        {org.personal && ' This is your personal organization: it is yours alone. Create an organization to share a fleet with others.'}
      </p>
      <ErrorMessage error={members.error} />
      {members.isPending ? (
        <Loading />
      ) : (
        <div className="table-wrap" role="region" aria-label="Members" tabIndex={0}>
          <table className="table" data-testid="members-table">
            <thead>
              <tr>
                <th scope="col">Email</th>
                <th scope="col">Role</th>
                <th scope="col">Joined</th>
                <th scope="col"><span className="sr-only">Actions</span></th>
              </tr>
            </thead>
            <tbody>
              {members.data?.map((m) => <MemberRow key={m.userId} member={m} me={m.userId === me} />)}
            </tbody>
          </table>
        </div>
      )}
      {!org.personal && may(role, 'members.manage') && <Invitations />}
      {!org.personal && <Leave />}
    </section>
  );
}
