// Routes. The public pages and the fleet overview are in the first bundle; every other page is
// loaded when first visited (lazy), which keeps the first page small.
import { lazy } from 'react';
import { createBrowserRouter } from 'react-router';
import { AppLayout, PublicLayout } from './layout.tsx';
import { RequireAdmin, RequireSession } from './guards.tsx';
import { LoginPage } from '../features/auth/components/login-page.tsx';
import { FleetPage } from '../features/dongles/components/fleet-page.tsx';

const named = <K extends string>(load: () => Promise<Record<K, React.ComponentType>>, name: K) => lazy(() => load().then((m) => ({ default: m[name] })));

const SignupPage = named(() => import('../features/auth/components/signup-page.tsx'), 'SignupPage');
const VerifyEmailPage = named(() => import('../features/auth/components/verify-email-page.tsx'), 'VerifyEmailPage');
const ForgotPasswordPage = named(() => import('../features/auth/components/password-reset-pages.tsx'), 'ForgotPasswordPage');
const ResetPasswordPage = named(() => import('../features/auth/components/password-reset-pages.tsx'), 'ResetPasswordPage');
const ClaimPage = named(() => import('../features/dongles/components/claim-page.tsx'), 'ClaimPage');
const DonglePage = named(() => import('../features/dongles/components/dongle-page.tsx'), 'DonglePage');
const AgentsPage = named(() => import('../features/agents/components/agents-page.tsx'), 'AgentsPage');
const GroupsPage = named(() => import('../features/groups/components/groups-page.tsx'), 'GroupsPage');
const AccountPage = named(() => import('../features/me/components/account-page.tsx'), 'AccountPage');
const UsersPage = named(() => import('../features/admin/components/users-page.tsx'), 'UsersPage');
const AuditPage = named(() => import('../features/admin/components/audit-page.tsx'), 'AuditPage');
const ForceReleasePage = named(() => import('../features/admin/components/force-release-page.tsx'), 'ForceReleasePage');
const MembersPage = named(() => import('../features/orgs/components/members-page.tsx'), 'MembersPage');
const ApiKeysPage = named(() => import('../features/orgs/components/api-keys-page.tsx'), 'ApiKeysPage');
const CreateOrgPage = named(() => import('../features/orgs/components/create-org-page.tsx'), 'CreateOrgPage');
const AcceptInvitationPage = named(() => import('../features/orgs/components/accept-invitation-page.tsx'), 'AcceptInvitationPage');
const JobsPage = named(() => import('../features/jobs/components/jobs-page.tsx'), 'JobsPage');
const NewJobPage = named(() => import('../features/jobs/components/new-job-page.tsx'), 'NewJobPage');
const JobDetailPage = named(() => import('../features/jobs/components/job-detail-page.tsx'), 'JobDetailPage');
const FirmwarePage = named(() => import('../features/firmware/components/firmware-page.tsx'), 'FirmwarePage');
const NotFoundPage = named(() => import('./not-found.tsx'), 'NotFoundPage');

export const router = createBrowserRouter([
  {
    element: <PublicLayout />,
    children: [
      { path: '/login', element: <LoginPage /> },
      { path: '/signup', element: <SignupPage /> },
      { path: '/verify-email', element: <VerifyEmailPage /> },
      { path: '/forgot-password', element: <ForgotPasswordPage /> },
      { path: '/reset-password', element: <ResetPasswordPage /> },
    ],
  },
  {
    element: (
      <RequireSession>
        <AppLayout />
      </RequireSession>
    ),
    children: [
      { path: '/', element: <FleetPage /> },
      { path: '/claim', element: <ClaimPage /> },
      { path: '/dongles/:id', element: <DonglePage /> },
      { path: '/agents', element: <AgentsPage /> },
      { path: '/groups', element: <GroupsPage /> },
      { path: '/account', element: <AccountPage /> },
      { path: '/jobs', element: <JobsPage /> },
      { path: '/jobs/new', element: <NewJobPage /> },
      { path: '/jobs/:id', element: <JobDetailPage /> },
      { path: '/firmware', element: <FirmwarePage /> },
      { path: '/org/members', element: <MembersPage /> },
      { path: '/org/api-keys', element: <ApiKeysPage /> },
      { path: '/orgs/new', element: <CreateOrgPage /> },
      { path: '/invitations/accept', element: <AcceptInvitationPage /> },
      {
        path: '/admin',
        element: <RequireAdmin />,
        children: [
          { path: 'users', element: <UsersPage /> },
          { path: 'audit', element: <AuditPage /> },
          { path: 'dongles', element: <ForceReleasePage /> },
        ],
      },
      { path: '*', element: <NotFoundPage /> },
    ],
  },
]);
