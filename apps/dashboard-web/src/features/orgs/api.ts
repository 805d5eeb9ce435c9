import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '../../lib/api.ts';
import { queryKeys } from '../../lib/query-keys.ts';
import { useOrgId } from './org-context.tsx';

export function useMembers() {
  const orgId = useOrgId();
  return useQuery({ queryKey: queryKeys.members(orgId), queryFn: async () => (await api.members(orgId)).items });
}

export function useInvitations(enabled: boolean) {
  const orgId = useOrgId();
  return useQuery({ queryKey: queryKeys.invitations(orgId), queryFn: async () => (await api.invitations(orgId)).items, enabled });
}

export function useApiKeys() {
  const orgId = useOrgId();
  return useQuery({ queryKey: queryKeys.apiKeys(orgId), queryFn: async () => (await api.apiKeys(orgId)).items });
}

/** A change to the organization's people: members, invitations, keys and my organizations refetch. */
export function useOrgMutation<T, R = unknown>(fn: (orgId: string, arg: T) => Promise<R>) {
  const client = useQueryClient();
  const orgId = useOrgId();
  return useMutation({
    mutationFn: (arg: T) => fn(orgId, arg),
    onSettled: () =>
      Promise.all(
        [queryKeys.members(orgId), queryKeys.invitations(orgId), queryKeys.apiKeys(orgId), queryKeys.orgs].map((queryKey) => client.invalidateQueries({ queryKey })),
      ),
  });
}
