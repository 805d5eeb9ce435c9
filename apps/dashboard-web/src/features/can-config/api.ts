import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, type CanConfigInput } from '../../lib/api.ts';
import { queryKeys } from '../../lib/query-keys.ts';

export const useCanConfig = (dongleId: string) => useQuery({ queryKey: queryKeys.canConfig(dongleId), queryFn: () => api.canConfig(dongleId) });

export function useSaveCanConfig(dongleId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ version, input }: { version: number; input: CanConfigInput }) => api.putCanConfig(dongleId, version, input),
    onSuccess: (saved) => client.setQueryData(queryKeys.canConfig(dongleId), saved),
    onSettled: () =>
      Promise.all([client.invalidateQueries({ queryKey: queryKeys.dongle(dongleId) }), client.invalidateQueries({ queryKey: queryKeys.dongles }), client.invalidateQueries({ queryKey: queryKeys.commands(dongleId) })]),
  });
}
