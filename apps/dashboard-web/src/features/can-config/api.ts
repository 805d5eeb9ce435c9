import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, type CanConfigInput } from '../../lib/api.ts';
import { live } from '../../lib/live.ts';
import { queryKeys } from '../../lib/query-keys.ts';

// Live: the applied version moves when the agent applies the configuration. The form is keyed
// by the desired version, so a refetch resets what the operator types only when someone else
// saved a new version.
export const useCanConfig = (dongleId: string) => useQuery({ queryKey: queryKeys.canConfig(dongleId), queryFn: () => api.canConfig(dongleId), ...live });

export function useSaveCanConfig(dongleId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ version, input }: { version: number; input: CanConfigInput }) => api.putCanConfig(dongleId, version, input),
    onSuccess: (saved) => client.setQueryData(queryKeys.canConfig(dongleId), saved),
    onSettled: () =>
      Promise.all([client.invalidateQueries({ queryKey: queryKeys.dongle(dongleId) }), client.invalidateQueries({ queryKey: queryKeys.dongles }), client.invalidateQueries({ queryKey: queryKeys.commands(dongleId) })]),
  });
}
