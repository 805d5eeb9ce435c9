// Forgot password (asks for the email) and reset password (the emailed link,
// templates.ts: /reset-password?token=…).
import { useState, type FormEvent } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { Button } from '../../../components/ui/button.tsx';
import { ErrorMessage, Notice } from '../../../components/ui/feedback.tsx';
import { Field } from '../../../components/ui/field.tsx';
import { api, ApiError } from '../../../lib/api.ts';
import { useTitle } from '../../../lib/use-title.ts';

export function ForgotPasswordPage() {
  useTitle('Reset your password');
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      setDone((await api.requestPasswordReset(String(new FormData(event.currentTarget).get('email')))).message);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="card">
      <h1>Reset your password</h1>
      {done ? (
        <Notice>{done}</Notice>
      ) : (
        <>
          <ErrorMessage error={error} />
          <form onSubmit={submit} noValidate>
            <Field label="Email" name="email" type="email" autoComplete="email" required autoFocus />
            <Button type="submit" variant="primary" busy={busy}>
              Email me a reset link
            </Button>
          </form>
        </>
      )}
      <p>
        <Link to="/login">Back to log in</Link>
      </p>
    </section>
  );
}

export function ResetPasswordPage() {
  useTitle('Choose a new password');
  const [params] = useSearchParams();
  const token = params.get('token');
  const navigate = useNavigate();
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const fields = error instanceof ApiError ? error.fieldErrors() : {};

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api.confirmPasswordReset(token ?? '', String(new FormData(event.currentTarget).get('password')));
      navigate('/login?reset=1', { replace: true });
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="card">
      <h1>Choose a new password</h1>
      {!token && <ErrorMessage error={new Error('This link has no token. Open the link from the email exactly as it was sent.')} />}
      <ErrorMessage error={error} />
      <form onSubmit={submit} noValidate>
        <Field label="New password" name="password" type="password" autoComplete="new-password" required minLength={12} hint="At least 12 characters. Every session of the account ends." error={fields.password} />
        <Button type="submit" variant="primary" busy={busy} disabled={!token}>
          Set the new password
        </Button>
      </form>
    </section>
  );
}
