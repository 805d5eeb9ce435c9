import { Suspense, useEffect, useRef } from 'react';
import { NavLink, Outlet, useLocation, useNavigate } from 'react-router';
import { Button } from '../components/ui/button.tsx';
import { Loading } from '../components/ui/feedback.tsx';
import { useSession, useSetSession } from '../features/auth/api.ts';
import { api } from '../lib/api.ts';
import { useLiveStatus } from '../lib/live.ts';

const liveText = { polling: 'Live (polling)', reconnecting: 'Reconnecting…', paused: 'Paused (tab hidden)' } as const;

export function LiveIndicator() {
  const status = useLiveStatus();
  return (
    <span className={`live live-${status}`} role="status" aria-live="polite" data-testid="live-indicator">
      <span className="live-dot" aria-hidden="true" />
      {liveText[status]}
    </span>
  );
}

export function AppLayout() {
  const session = useSession().data;
  const setSession = useSetSession();
  const navigate = useNavigate();
  const admin = session?.user.role === 'admin';
  // After a client-side navigation, keyboard and screen-reader users start at the new content,
  // not at the link they left behind in the top bar.
  const main = useRef<HTMLElement>(null);
  const { pathname } = useLocation();
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    main.current?.focus({ preventScroll: false });
  }, [pathname]);
  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <NavLink to="/" className="brand">
          Fleet
        </NavLink>
        <nav aria-label="Main">
          <ul>
            <li><NavLink to="/" end>Fleet</NavLink></li>
            <li><NavLink to="/claim">Claim</NavLink></li>
            <li><NavLink to="/agents">Agents</NavLink></li>
            <li><NavLink to="/groups">Groups</NavLink></li>
            <li><NavLink to="/account">Account</NavLink></li>
            {admin && <li><NavLink to="/admin/users">Users</NavLink></li>}
            {admin && <li><NavLink to="/admin/audit">Audit log</NavLink></li>}
            {admin && <li><NavLink to="/admin/dongles">Force-release</NavLink></li>}
          </ul>
        </nav>
        <div className="topbar-end">
          <LiveIndicator />
          <span className="muted user-email">{session?.user.email}</span>
          <Button
            variant="link"
            onClick={async () => {
              await api.logout().catch(() => undefined);
              setSession(null);
              navigate('/login');
            }}
          >
            Log out
          </Button>
        </div>
      </header>
      <main id="main" className="page" tabIndex={-1} ref={main}>
        <Suspense fallback={<Loading />}>
          <Outlet />
        </Suspense>
      </main>
    </div>
  );
}

export function PublicLayout() {
  return (
    <main id="main" className="page page-narrow">
      <p className="brand brand-public">Fleet dashboard</p>
      <Suspense fallback={<Loading />}>
        <Outlet />
      </Suspense>
    </main>
  );
}
