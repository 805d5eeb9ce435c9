import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, type Dongle } from '../../lib/api.ts';
import { live, liveClock } from '../../lib/live.ts';
import { queryKeys } from '../../lib/query-keys.ts';
import { useOrgId } from '../orgs/org-context.tsx';

const MAX_PAGES = 25;

/** Every dongle of the organization matching the selector (all pages; 200 a page). */
async function allDongles(orgId: string, selector: string): Promise<Dongle[]> {
  const out: Dongle[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < MAX_PAGES; page += 1) {
    const res = await api.dongles(orgId, { ...(cursor ? { cursor } : {}), selector });
    out.push(...res.items);
    if (!res.nextCursor) break;
    cursor = res.nextCursor;
  }
  return out;
}

export function useDongles(selector = '') {
  const orgId = useOrgId();
  return useQuery({ queryKey: queryKeys.dongleList(orgId, selector), queryFn: () => allDongles(orgId, selector), ...liveClock });
}
export function useDongle(id: string) {
  const orgId = useOrgId();
  return useQuery({ queryKey: queryKeys.dongle(orgId, id), queryFn: () => api.dongle(orgId, id), ...liveClock });
}
export function useDiscovered() {
  const orgId = useOrgId();
  return useQuery({ queryKey: queryKeys.discovered(orgId), queryFn: async () => (await api.discovered(orgId)).items, ...live });
}

export function useClaim() {
  const client = useQueryClient();
  const orgId = useOrgId();
  return useMutation({
    mutationFn: (deviceId: string) => api.claim(orgId, deviceId),
    onSettled: () => Promise.all([client.invalidateQueries({ queryKey: queryKeys.discovered(orgId) }), client.invalidateQueries({ queryKey: queryKeys.dongles(orgId) })]),
  });
}

/** A change to a dongle: afterwards every dongle query (list, detail, config, commands) and the groups refetch. */
export function useDongleAction<T>(action: (orgId: string, arg: T) => Promise<unknown>) {
  const client = useQueryClient();
  const orgId = useOrgId();
  return useMutation({
    mutationFn: (arg: T) => action(orgId, arg),
    onSettled: () => Promise.all([client.invalidateQueries({ queryKey: queryKeys.dongles(orgId) }), client.invalidateQueries({ queryKey: queryKeys.groups(orgId) })]),
  });
}
