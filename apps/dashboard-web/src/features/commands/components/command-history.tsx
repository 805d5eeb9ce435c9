// The dongle's commands, newest first, refreshed live: a PING turns SUCCEEDED without a reload.
import { Badge } from '../../../components/ui/badge.tsx';
import { Button } from '../../../components/ui/button.tsx';
import { Empty, ErrorMessage, Loading } from '../../../components/ui/feedback.tsx';
import type { Command, CommandStatus } from '../../../lib/api.ts';
import { timeAgo } from '../../../lib/format.ts';
import { useCancelCommand, useCommands } from '../api.ts';

const tone = (status: CommandStatus) => (status === 'SUCCEEDED' ? 'ok' : status === 'QUEUED' || status === 'DELIVERED' ? 'warn' : status === 'CANCELLED' ? 'neutral' : 'bad');

function outcome(c: Command): string {
  if (c.error) return c.error;
  if (c.result === null || c.result === undefined) return '—';
  const text = JSON.stringify(c.result);
  return text.length > 120 ? `${text.slice(0, 117)}…` : text;
}

export function CommandHistory({ dongleId }: { dongleId: string }) {
  const commands = useCommands(dongleId);
  const cancel = useCancelCommand(dongleId);
  return (
    <section className="card" aria-labelledby="history-title">
      <h2 id="history-title">Command history</h2>
      <ErrorMessage error={commands.error ?? cancel.error} />
      {commands.isPending ? (
        <Loading />
      ) : commands.data?.length === 0 ? (
        <Empty>No command sent yet.</Empty>
      ) : (
        <div className="table-wrap" role="region" aria-label="Command history" tabIndex={0}>
          <table className="table" data-testid="command-history">
            <thead>
              <tr>
                <th scope="col">Command</th>
                <th scope="col">Status</th>
                <th scope="col">Sent</th>
                <th scope="col">Result</th>
                <th scope="col"><span className="sr-only">Actions</span></th>
              </tr>
            </thead>
            <tbody>
              {commands.data?.map((c) => (
                <tr key={c.id} data-status={c.status}>
                  <td>{c.type}</td>
                  <td><Badge tone={tone(c.status)}>{c.status}</Badge></td>
                  <td>{timeAgo(c.createdAt)}</td>
                  <td className="mono small">{outcome(c)}</td>
                  <td>
                    {c.status === 'QUEUED' && (
                      <Button busy={cancel.isPending && cancel.variables === c.id} onClick={() => cancel.mutate(c.id)} aria-label={`Cancel ${c.type}`}>
                        Cancel
                      </Button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
