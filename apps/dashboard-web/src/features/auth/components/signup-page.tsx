import { useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { Button } from '../../../components/ui/button.tsx';
import { ErrorMessage, Notice } from '../../../components/ui/feedback.tsx';
import { Field } from '../../../components/ui/field.tsx';
import { api, ApiError } from '../../../lib/api.ts';
import { useTitle } from '../../../lib/use-title.ts';

export function SignupPage() {
  useTitle('Sign up');
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const fields = error instanceof ApiError ? error.fieldErrors() : {};

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setBusy(true);
    setError(null);
    try {
      const res = await api.signup(String(form.get('email')), String(form.get('password')));
      setDone(res.message);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  if (done) {
    return (
      <section className="card">
        <h1>Check your email</h1>
        <Notice>{done}</Notice>
        <p>
          Open the link in the email to verify your address, then <Link to="/login">log in</Link>.
        </p>
      </section>
    );
  }
  return (
    <section className="card">
      <h1>Create an account</h1>
      <ErrorMessage error={error} />
      <form onSubmit={submit} noValidate>
        <Field label="Email" name="email" type="email" autoComplete="email" required autoFocus error={fields.email} />
        <Field label="Password" name="password" type="password" autoComplete="new-password" required minLength={12} hint="At least 12 characters; not a common password." error={fields.password} />
        <Button type="submit" variant="primary" busy={busy}>
          Sign up
        </Button>
      </form>
      <p>
        Already have an account? <Link to="/login">Log in</Link>
      </p>
    </section>
  );
}
