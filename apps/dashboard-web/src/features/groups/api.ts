import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '../../lib/api.ts';
import { live } from '../../lib/live.ts';
import { queryKeys } from '../../lib/query-keys.ts';

export const useGroups = () => useQuery({ queryKey: queryKeys.groups, queryFn: async () => (await api.groups()).items, ...live });

export function useGroupMutation<T>(fn: (arg: T) => Promise<unknown>) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: fn,
    onSettled: () => Promise.all([client.invalidateQueries({ queryKey: queryKeys.groups }), client.invalidateQueries({ queryKey: queryKeys.dongles })]),
  });
}
