// The link in the verification email (templates.ts: /verify-email?token=…) opens this page,
// which redeems the token once.
import { useMutation } from '@tanstack/react-query';
import { useEffect, useRef } from 'react';
import { Link, useSearchParams } from 'react-router';
import { ErrorMessage, Loading, Notice } from '../../../components/ui/feedback.tsx';
import { api } from '../../../lib/api.ts';
import { useTitle } from '../../../lib/use-title.ts';

export function VerifyEmailPage() {
  useTitle('Verify your email');
  const [params] = useSearchParams();
  const token = params.get('token');
  const verify = useMutation({ mutationFn: (t: string) => api.verifyEmail(t) });
  const { mutate } = verify;
  // A token is single use: redeem it once, even when React runs effects twice (StrictMode in dev).
  const redeemed = useRef<string | null>(null);

  useEffect(() => {
    if (token && redeemed.current !== token) {
      redeemed.current = token;
      mutate(token);
    }
  }, [token, mutate]);

  return (
    <section className="card">
      <h1>Verify your email</h1>
      {!token && <ErrorMessage error={new Error('This link has no token. Open the link from the email exactly as it was sent.')} />}
      {verify.isPending && <Loading label="Verifying…" />}
      {verify.isError && <ErrorMessage error={verify.error} />}
      {verify.isSuccess && (
        <Notice>
          Your email address is verified. <Link to="/login">Log in</Link>
        </Notice>
      )}
    </section>
  );
}
