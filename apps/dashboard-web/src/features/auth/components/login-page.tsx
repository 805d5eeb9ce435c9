import { useState, type FormEvent } from 'react';
import { Link, Navigate, useNavigate, useSearchParams } from 'react-router';
import { Button } from '../../../components/ui/button.tsx';
import { ErrorMessage, Notice } from '../../../components/ui/feedback.tsx';
import { Field } from '../../../components/ui/field.tsx';
import { api } from '../../../lib/api.ts';
import { safeNext, useSession, useSetSession } from '../api.ts';
import { useTitle } from '../../../lib/use-title.ts';

export function LoginPage() {
  useTitle('Log in');
  const [params] = useSearchParams();
  const next = safeNext(params.get('next'));
  const session = useSession();
  const setSession = useSetSession();
  const navigate = useNavigate();
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  if (session.data) return <Navigate to={next} replace />;

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setBusy(true);
    setError(null);
    try {
      setSession(await api.login(String(form.get('email')), String(form.get('password'))));
      navigate(next, { replace: true });
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="card">
      <h1>Log in</h1>
      {params.get('ended') && <Notice>Your session has ended. Log in again to continue where you were.</Notice>}
      {params.get('reset') && <Notice>Your password was changed. Log in with the new one.</Notice>}
      <ErrorMessage error={error} />
      <form onSubmit={submit} noValidate>
        <Field label="Email" name="email" type="email" autoComplete="username" required autoFocus />
        <Field label="Password" name="password" type="password" autoComplete="current-password" required />
        <Button type="submit" variant="primary" busy={busy}>
          Log in
        </Button>
      </form>
      <p>
        <Link to="/forgot-password">Forgot your password?</Link> · <Link to="/signup">Create an account</Link>
      </p>
    </section>
  );
}
