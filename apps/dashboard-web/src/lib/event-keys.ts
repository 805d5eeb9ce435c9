// Which cached views an event makes stale (doc/events.md lists the types and payloads). The
// stream handler invalidates these; views refetch what they show.
import type { QueryKey } from '@tanstack/react-query';
import { queryKeys } from './query-keys.ts';

export interface FleetEvent {
  id: string;
  type: string;
  subject: { type: string; id: string };
  data: Record<string, unknown>;
}

export interface Stale {
  queryKey: QueryKey;
  exact?: boolean;
}

export function staleViews(orgId: string, event: FleetEvent): Stale[] {
  const k = queryKeys;
  const id = event.subject.id;
  const str = (v: unknown) => (typeof v === 'string' ? v : null);
  const [kind] = event.type.split('.');
  switch (kind) {
    case 'dongle': {
      if (event.type === 'dongle.discovered') return [{ queryKey: k.discovered(orgId) }];
      // A claim, release or lapse also changes what the claim page offers.
      return [{ queryKey: k.dongleLists(orgId) }, { queryKey: k.dongle(orgId, id), exact: true }, { queryKey: k.discovered(orgId) }];
    }
    case 'can_config':
      return [{ queryKey: k.dongleLists(orgId) }, { queryKey: k.dongle(orgId, id), exact: true }, { queryKey: k.canConfig(orgId, id) }];
    case 'command': {
      const dongleId = str(event.data.dongleId);
      return dongleId ? [{ queryKey: k.commands(orgId, dongleId) }] : [];
    }
    case 'agent':
      return [{ queryKey: k.agents(orgId) }, { queryKey: k.discovered(orgId) }];
    case 'group':
      return [{ queryKey: k.groups(orgId) }, { queryKey: k.dongleLists(orgId) }];
    case 'member':
      // My own role may be the one that changed: the organization list carries it.
      return [{ queryKey: k.members(orgId) }, { queryKey: k.apiKeys(orgId) }, { queryKey: k.orgs }];
    case 'job': {
      const jobId = event.type === 'job.execution_updated' ? str(event.data.jobId) : id;
      return [{ queryKey: k.jobList(orgId) }, ...(jobId ? [{ queryKey: k.job(orgId, jobId) }] : [])];
    }
    default:
      return []; // alerts, webhooks: no page shows them yet
  }
}
