import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, type CanConfigInput } from '../../lib/api.ts';
import { live } from '../../lib/live.ts';
import { queryKeys } from '../../lib/query-keys.ts';
import { useOrgId } from '../orgs/org-context.tsx';

// Live: the applied version moves when the agent applies the configuration (can_config.applied).
// The form is keyed by the desired version, so a refetch resets what the operator types only
// when someone else saved a new version.
export function useCanConfig(dongleId: string) {
  const orgId = useOrgId();
  return useQuery({ queryKey: queryKeys.canConfig(orgId, dongleId), queryFn: () => api.canConfig(orgId, dongleId), ...live });
}

export function useSaveCanConfig(dongleId: string) {
  const client = useQueryClient();
  const orgId = useOrgId();
  return useMutation({
    mutationFn: ({ version, input }: { version: number; input: CanConfigInput }) => api.putCanConfig(orgId, dongleId, version, input),
    onSuccess: (saved) => client.setQueryData(queryKeys.canConfig(orgId, dongleId), saved),
    onSettled: () => client.invalidateQueries({ queryKey: queryKeys.dongles(orgId), predicate: (q) => q.queryKey[4] !== 'can-config' }),
  });
}
