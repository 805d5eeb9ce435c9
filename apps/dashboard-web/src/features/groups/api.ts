import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '../../lib/api.ts';
import { live } from '../../lib/live.ts';
import { queryKeys } from '../../lib/query-keys.ts';
import { useOrgId } from '../orgs/org-context.tsx';

export function useGroups() {
  const orgId = useOrgId();
  return useQuery({ queryKey: queryKeys.groups(orgId), queryFn: async () => (await api.groups(orgId)).items, ...live });
}

export function useGroupMutation<T>(fn: (orgId: string, arg: T) => Promise<unknown>) {
  const client = useQueryClient();
  const orgId = useOrgId();
  return useMutation({
    mutationFn: (arg: T) => fn(orgId, arg),
    onSettled: () => Promise.all([client.invalidateQueries({ queryKey: queryKeys.groups(orgId) }), client.invalidateQueries({ queryKey: queryKeys.dongles(orgId) })]),
  });
}
