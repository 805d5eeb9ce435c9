import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '../../lib/api.ts';
import { live } from '../../lib/live.ts';
import { queryKeys } from '../../lib/query-keys.ts';

export const useAgents = () => useQuery({ queryKey: queryKeys.agents, queryFn: async () => (await api.agents()).items, ...live });

export function useAgentMutation<T>(fn: (arg: T) => Promise<unknown>) {
  const client = useQueryClient();
  return useMutation({ mutationFn: fn, onSettled: () => client.invalidateQueries({ queryKey: queryKeys.agents }) });
}
