// My account: where I am logged in (end one or all others) and my password.
import { useState, type FormEvent } from 'react';
import { Badge } from '../../../components/ui/badge.tsx';
import { Button } from '../../../components/ui/button.tsx';
import { ErrorMessage, Loading, Notice } from '../../../components/ui/feedback.tsx';
import { Field } from '../../../components/ui/field.tsx';
import { api, ApiError } from '../../../lib/api.ts';
import { dateTime, timeAgo } from '../../../lib/format.ts';
import { useSession } from '../../auth/api.ts';
import { useMySessions, useSessionMutation } from '../api.ts';
import { useTitle } from '../../../lib/use-title.ts';

function Sessions() {
  const sessions = useMySessions();
  const end = useSessionMutation((id: string) => api.endSession(id));
  const endOthers = useSessionMutation(() => api.endOtherSessions());
  return (
    <section className="card" aria-labelledby="sessions-title">
      <h2 id="sessions-title">Where you are logged in</h2>
      <ErrorMessage error={sessions.error ?? end.error ?? endOthers.error} />
      {endOthers.isSuccess && <Notice>{`Ended ${(endOthers.data as { revoked: number }).revoked} other session(s).`}</Notice>}
      {sessions.isPending ? (
        <Loading />
      ) : (
        <ul className="plain sessions">
          {sessions.data?.map((s) => (
            <li key={s.id}>
              <div>
                <strong>{s.userAgent ?? 'Unknown browser'}</strong> {s.current && <Badge tone="ok">This session</Badge>}
                <p className="muted small">
                  {s.ip ?? 'unknown address'} · active {timeAgo(s.lastActiveAt)} · since {dateTime(s.createdAt)}
                </p>
              </div>
              {!s.current && (
                <Button busy={end.isPending && end.variables === s.id} onClick={() => end.mutate(s.id)}>
                  End session
                </Button>
              )}
            </li>
          ))}
        </ul>
      )}
      <Button busy={endOthers.isPending} onClick={() => endOthers.mutate(undefined)}>
        End every other session
      </Button>
    </section>
  );
}

function ChangePassword() {
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState(false);
  const [busy, setBusy] = useState(false);
  const fields = error instanceof ApiError ? error.fieldErrors() : {};
  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const data = new FormData(form);
    setBusy(true);
    setError(null);
    setDone(false);
    try {
      await api.changePassword(String(data.get('currentPassword')), String(data.get('newPassword')));
      form.reset();
      setDone(true);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }
  return (
    <section className="card" aria-labelledby="password-title">
      <h2 id="password-title">Change your password</h2>
      {done && <Notice>Password changed. Every other session has ended.</Notice>}
      <ErrorMessage error={error} />
      <form onSubmit={submit} noValidate>
        <input type="text" name="username" autoComplete="username" hidden readOnly value={useSession().data?.user.email ?? ''} />
        <Field label="Current password" name="currentPassword" type="password" autoComplete="current-password" required error={fields.currentPassword} />
        <Field label="New password" name="newPassword" type="password" autoComplete="new-password" required minLength={12} hint="At least 12 characters." error={fields.newPassword} />
        <Button type="submit" variant="primary" busy={busy}>Change password</Button>
      </form>
    </section>
  );
}

export function AccountPage() {
  useTitle('Account');
  const session = useSession().data;
  return (
    <section>
      <h1>Account</h1>
      <p>
        {session?.user.email} · {session?.user.role === 'admin' ? 'Administrator' : 'Operator'}
      </p>
      <div className="two-col">
        <Sessions />
        <ChangePassword />
      </div>
    </section>
  );
}
