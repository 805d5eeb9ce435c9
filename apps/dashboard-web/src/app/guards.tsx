import type { ReactNode } from 'react';
import { Navigate, Outlet, useLocation } from 'react-router';
import { ErrorMessage, Loading } from '../components/ui/feedback.tsx';
import { useSession } from '../features/auth/api.ts';

/** Logged-in pages: without a session, to the login page and back here afterwards. */
export function RequireSession({ children }: { children: ReactNode }) {
  const session = useSession();
  const location = useLocation();
  if (session.isPending) return <main className="page"><Loading /></main>;
  if (session.isError) return <main className="page"><ErrorMessage error={session.error} /></main>;
  if (!session.data) return <Navigate to={`/login?next=${encodeURIComponent(location.pathname + location.search)}`} replace />;
  return <>{children}</>;
}

export function RequireAdmin() {
  const session = useSession();
  if (session.data?.user.role !== 'admin') {
    return (
      <section>
        <h1>Administrators only</h1>
        <p>This page is for administrators. Your account does not have that role.</p>
      </section>
    );
  }
  return <Outlet />;
}
