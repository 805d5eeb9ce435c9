import { Suspense, useEffect, useRef } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { NavLink, Outlet, useLocation, useNavigate } from 'react-router';
import { Button } from '../components/ui/button.tsx';
import { Loading } from '../components/ui/feedback.tsx';
import { useSession, useSetSession } from '../features/auth/api.ts';
import { OrgProvider, useOrg } from '../features/orgs/org-context.tsx';
import { api } from '../lib/api.ts';
import { followOrganization, useLiveStatus } from '../lib/live.ts';
import { may, roleLabel } from '../lib/permissions.ts';

const liveText = { connecting: 'Connecting…', live: 'Live', reconnecting: 'Reconnecting…' } as const;

export function LiveIndicator() {
  const status = useLiveStatus();
  return (
    <span className={`live live-${status}`} role="status" aria-live="polite" data-testid="live-indicator">
      <span className="live-dot" aria-hidden="true" />
      {liveText[status]}
    </span>
  );
}

/** The organization switcher: pages of an item (a dongle, a job) go back to the fleet on a switch. */
function OrgSwitcher() {
  const { orgs, org, select } = useOrg();
  const navigate = useNavigate();
  const { pathname } = useLocation();
  return (
    <label className="org-switcher">
      <span className="sr-only">Organization</span>
      <select
        value={org.id}
        data-testid="org-switcher"
        onChange={(e) => {
          select(e.target.value);
          if (/^\/(dongles|jobs)\//.test(pathname)) navigate('/');
        }}
      >
        {orgs.map((o) => (
          <option key={o.id} value={o.id}>
            {o.personal ? `${o.name} (personal)` : o.name} · {roleLabel[o.role]}
          </option>
        ))}
      </select>
    </label>
  );
}

/** One event stream for the selected organization, for as long as it is selected. */
function EventStream() {
  const { orgId } = useOrg();
  const client = useQueryClient();
  useEffect(() => followOrganization(client, orgId), [client, orgId]);
  return null;
}

function Shell() {
  const session = useSession().data;
  const setSession = useSetSession();
  const { role } = useOrg();
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
      <EventStream />
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
            {may(role, 'fleet.operate') && <li><NavLink to="/claim">Claim</NavLink></li>}
            <li><NavLink to="/agents">Agents</NavLink></li>
            <li><NavLink to="/groups">Groups</NavLink></li>
            <li><NavLink to="/jobs">Jobs</NavLink></li>
            <li><NavLink to="/firmware">Firmware</NavLink></li>
            <li><NavLink to="/org/members">Members</NavLink></li>
            <li><NavLink to="/org/api-keys">API keys</NavLink></li>
            <li><NavLink to="/account">Account</NavLink></li>
            {admin && <li><NavLink to="/admin/users">Users</NavLink></li>}
            {admin && <li><NavLink to="/admin/audit">Audit log</NavLink></li>}
            {admin && <li><NavLink to="/admin/dongles">Force-release</NavLink></li>}
          </ul>
        </nav>
        <div className="topbar-end">
          <OrgSwitcher />
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

export function AppLayout() {
  return (
    <OrgProvider>
      <Shell />
    </OrgProvider>
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
