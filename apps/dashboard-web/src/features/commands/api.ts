import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, type NewCommand } from '../../lib/api.ts';
import { idempotencyKey } from '../../lib/format.ts';
import { live } from '../../lib/live.ts';
import { queryKeys } from '../../lib/query-keys.ts';
import { useOrgId } from '../orgs/org-context.tsx';

export function useCommands(dongleId: string) {
  const orgId = useOrgId();
  return useQuery({ queryKey: queryKeys.commands(orgId, dongleId), queryFn: async () => (await api.commands(orgId, dongleId)).items, ...live });
}

export function useSendCommand(dongleId: string) {
  const client = useQueryClient();
  const orgId = useOrgId();
  return useMutation({
    // One key per click: TanStack's own retry of this mutation (none by default) or a double
    // submit cannot queue the command twice.
    mutationFn: (command: NewCommand) => api.sendCommand(orgId, dongleId, command, idempotencyKey()),
    onSettled: () => client.invalidateQueries({ queryKey: queryKeys.commands(orgId, dongleId) }),
  });
}

export function useCancelCommand(dongleId: string) {
  const client = useQueryClient();
  const orgId = useOrgId();
  return useMutation({ mutationFn: (id: string) => api.cancelCommand(orgId, id), onSettled: () => client.invalidateQueries({ queryKey: queryKeys.commands(orgId, dongleId) }) });
}
