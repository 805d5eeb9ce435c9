import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '../../lib/api.ts';
import { liveClock } from '../../lib/live.ts';
import { queryKeys } from '../../lib/query-keys.ts';
import { useOrgId } from '../orgs/org-context.tsx';

export function useAgents() {
  const orgId = useOrgId();
  return useQuery({ queryKey: queryKeys.agents(orgId), queryFn: async () => (await api.agents(orgId)).items, ...liveClock });
}

export function useAgentMutation<T>(fn: (orgId: string, arg: T) => Promise<unknown>) {
  const client = useQueryClient();
  const orgId = useOrgId();
  return useMutation({ mutationFn: (arg: T) => fn(orgId, arg), onSettled: () => client.invalidateQueries({ queryKey: queryKeys.agents(orgId) }) });
}
