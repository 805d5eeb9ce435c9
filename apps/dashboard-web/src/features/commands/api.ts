import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, type NewCommand } from '../../lib/api.ts';
import { idempotencyKey } from '../../lib/format.ts';
import { live } from '../../lib/live.ts';
import { queryKeys } from '../../lib/query-keys.ts';

export const useCommands = (dongleId: string) => useQuery({ queryKey: queryKeys.commands(dongleId), queryFn: async () => (await api.commands(dongleId)).items, ...live });

export function useSendCommand(dongleId: string) {
  const client = useQueryClient();
  return useMutation({
    // One key per click: TanStack's own retry of this mutation (none by default) or a double
    // submit cannot queue the command twice.
    mutationFn: (command: NewCommand) => api.sendCommand(dongleId, command, idempotencyKey()),
    onSettled: () => client.invalidateQueries({ queryKey: queryKeys.commands(dongleId) }),
  });
}

export function useCancelCommand(dongleId: string) {
  const client = useQueryClient();
  return useMutation({ mutationFn: (id: string) => api.cancelCommand(id), onSettled: () => client.invalidateQueries({ queryKey: queryKeys.commands(dongleId) }) });
}
