// Claim with a click: the dongles my agents see that nobody owns yet.
import { Link, useNavigate } from 'react-router';
import { Button } from '../../../components/ui/button.tsx';
import { Empty, ErrorMessage, Loading } from '../../../components/ui/feedback.tsx';
import { timeAgo } from '../../../lib/format.ts';
import { useClaim, useDiscovered } from '../api.ts';
import { useTitle } from '../../../lib/use-title.ts';

export function ClaimPage() {
  useTitle('Claim a dongle');
  const discovered = useDiscovered();
  const claim = useClaim();
  const navigate = useNavigate();

  return (
    <section>
      <h1>Claim a dongle</h1>
      <p className="muted">Dongles your agents reported in the last 5 minutes that nobody owns. Claiming one makes it yours once its agent has handed it its token.</p>
      <ErrorMessage error={discovered.error} />
      <ErrorMessage error={claim.error} title="Could not claim:" />
      {discovered.isPending ? (
        <Loading label="Looking for dongles…" />
      ) : discovered.data?.length === 0 ? (
        <Empty>
          None of your agents reports an unclaimed dongle right now. Plug one in to a computer running an <Link to="/agents">enrolled agent</Link>; it appears here within a few seconds.
        </Empty>
      ) : (
        <ul className="cards" aria-label="Discovered dongles">
          {discovered.data?.map((d) => (
            <li key={d.deviceId} className="card">
              <p className="mono">{d.deviceId}</p>
              <p className="muted">
                Seen by {d.agentName} {timeAgo(d.lastSeenAt)}
                {d.firmwareVersion ? ` · firmware ${d.firmwareVersion}` : ''}
              </p>
              <Button
                variant="primary"
                busy={claim.isPending && claim.variables === d.deviceId}
                aria-label={`Claim ${d.deviceId}`}
                onClick={() => claim.mutate(d.deviceId, { onSuccess: (dongle) => navigate(`/dongles/${dongle.id}`) })}
              >
                Claim
              </Button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
