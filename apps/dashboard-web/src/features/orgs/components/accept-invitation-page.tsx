// The emailed invitation link (PUBLIC_URL/invitations/accept?token=…). Behind the login (the
// guard brings the invitee back here afterwards); joining takes a click, so a link preview or a
// mistaken account never joins anyone.
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { Button } from '../../../components/ui/button.tsx';
import { ErrorMessage } from '../../../components/ui/feedback.tsx';
import { api, ApiError } from '../../../lib/api.ts';
import { queryKeys } from '../../../lib/query-keys.ts';
import { useTitle } from '../../../lib/use-title.ts';
import { useSession } from '../../auth/api.ts';
import { useOrg } from '../org-context.tsx';

export function AcceptInvitationPage() {
  useTitle('Invitation');
  const [params] = useSearchParams();
  const token = params.get('token') ?? '';
  const email = useSession().data?.user.email;
  const client = useQueryClient();
  const { select } = useOrg();
  const navigate = useNavigate();
  const accept = useMutation({
    mutationFn: () => api.acceptInvitation(token),
    onSuccess: async (org) => {
      await client.invalidateQueries({ queryKey: queryKeys.orgs });
      select(org.id);
      navigate('/', { state: { joined: org.name } });
    },
  });
  const notFound = accept.error instanceof ApiError && accept.error.status === 404;
  return (
    <section>
      <h1>Join an organization</h1>
      {!token ? (
        <p>This link has no invitation token. Open the link from the invitation email again.</p>
      ) : (
        <>
          <p>
            You were invited to an organization. You are logged in as <strong>{email}</strong>; the invitation must be for this address.
          </p>
          <Button variant="primary" busy={accept.isPending} onClick={() => accept.mutate()}>
            Accept the invitation
          </Button>
          {notFound ? (
            <div className="alert alert-error" role="alert">
              This invitation cannot be used: it has expired, was revoked or already used, or it was sent to another address than {email}. Ask for a new one.
              {accept.error instanceof ApiError && accept.error.requestId && <span className="request-id"> (request id {accept.error.requestId})</span>}
            </div>
          ) : (
            <ErrorMessage error={accept.error} />
          )}
        </>
      )}
      <p>
        <Link to="/">Back to the fleet</Link>
      </p>
    </section>
  );
}
