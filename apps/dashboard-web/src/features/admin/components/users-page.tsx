// Admin: users. Search by email, filter by status and role, suspend or reactivate, change role.
import { useState, type FormEvent } from 'react';
import { Badge } from '../../../components/ui/badge.tsx';
import { Button } from '../../../components/ui/button.tsx';
import { ConfirmButton } from '../../../components/ui/confirm.tsx';
import { Empty, ErrorMessage, Loading } from '../../../components/ui/feedback.tsx';
import { Field, SelectField } from '../../../components/ui/field.tsx';
import type { Role, User, UserStatus } from '../../../lib/api.ts';
import { timeAgo } from '../../../lib/format.ts';
import { useSession } from '../../auth/api.ts';
import { useUpdateUser, useUsers, type UserQuery } from '../api.ts';
import { useTitle } from '../../../lib/use-title.ts';

function UserRow({ user, self }: { user: User; self: boolean }) {
  const update = useUpdateUser();
  const suspended = user.status === 'suspended';
  return (
    <tr data-email={user.email}>
      <td>{user.email}{!user.emailVerified && <> <Badge tone="warn">unverified</Badge></>}</td>
      <td><Badge tone={user.role === 'admin' ? 'warn' : 'neutral'}>{user.role}</Badge></td>
      <td><Badge tone={suspended ? 'bad' : 'ok'}>{user.status}</Badge></td>
      <td>{timeAgo(user.lastLoginAt)}</td>
      <td className="row-actions">
        {!self &&
          (suspended ? (
            <Button busy={update.isPending} onClick={() => update.mutate({ id: user.id, change: { status: 'active' } })}>Reactivate</Button>
          ) : (
            <ConfirmButton label="Suspend" title={`Suspend ${user.email}?`} confirmLabel="Suspend" busy={update.isPending} onConfirm={() => update.mutate({ id: user.id, change: { status: 'suspended' } })}>
              <p>Their sessions end and their agents' tokens are revoked at once.</p>
            </ConfirmButton>
          ))}
        {!self && (
          <Button busy={update.isPending} onClick={() => update.mutate({ id: user.id, change: { role: user.role === 'admin' ? 'user' : 'admin' } })}>
            {user.role === 'admin' ? 'Make operator' : 'Make admin'}
          </Button>
        )}
        <ErrorMessage error={update.error} />
      </td>
    </tr>
  );
}

export function UsersPage() {
  useTitle('Users');
  const me = useSession().data?.user;
  const [query, setQuery] = useState<UserQuery>({});
  const users = useUsers(query);

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const data = new FormData(event.currentTarget);
    const email = String(data.get('email') ?? '').trim();
    const status = String(data.get('status') ?? '') as UserStatus | '';
    const role = String(data.get('role') ?? '') as Role | '';
    setQuery({ ...(email ? { email } : {}), ...(status ? { status } : {}), ...(role ? { role } : {}) });
  }

  return (
    <section>
      <h1>Users</h1>
      <form className="filters" role="search" onSubmit={submit}>
        <Field label="Email contains" name="email" type="search" />
        <SelectField label="Status" name="status" defaultValue="">
          <option value="">Any status</option>
          <option value="active">Active</option>
          <option value="suspended">Suspended</option>
        </SelectField>
        <SelectField label="Role" name="role" defaultValue="">
          <option value="">Any role</option>
          <option value="user">Operator</option>
          <option value="admin">Administrator</option>
        </SelectField>
        <Button type="submit" variant="primary">Search</Button>
      </form>
      <ErrorMessage error={users.error} />
      {users.isPending ? (
        <Loading />
      ) : users.data?.items.length === 0 ? (
        <Empty>No user matches.</Empty>
      ) : (
        <div className="table-wrap" role="region" aria-label="Users" tabIndex={0}>
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Email</th>
                <th scope="col">Role</th>
                <th scope="col">Status</th>
                <th scope="col">Last login</th>
                <th scope="col"><span className="sr-only">Actions</span></th>
              </tr>
            </thead>
            <tbody>
              {users.data?.items.map((u) => <UserRow key={u.id} user={u} self={u.id === me?.id} />)}
            </tbody>
          </table>
        </div>
      )}
      {users.data?.nextCursor && <p className="muted">More users match; narrow the search to see them.</p>}
    </section>
  );
}
