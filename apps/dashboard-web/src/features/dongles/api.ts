import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, type Dongle } from '../../lib/api.ts';
import { live } from '../../lib/live.ts';
import { queryKeys } from '../../lib/query-keys.ts';

const MAX_PAGES = 25;

/** Every dongle of mine (all pages; 200 a page), refreshed live. */
async function allDongles(): Promise<Dongle[]> {
  const out: Dongle[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < MAX_PAGES; page += 1) {
    const res = await api.dongles(cursor);
    out.push(...res.items);
    if (!res.nextCursor) break;
    cursor = res.nextCursor;
  }
  return out;
}

export const useDongles = () => useQuery({ queryKey: queryKeys.dongles, queryFn: allDongles, ...live });
export const useDongle = (id: string) => useQuery({ queryKey: queryKeys.dongle(id), queryFn: () => api.dongle(id), ...live });
export const useDiscovered = () => useQuery({ queryKey: queryKeys.discovered, queryFn: async () => (await api.discovered()).items, ...live });

export function useClaim() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (deviceId: string) => api.claim(deviceId),
    onSettled: () => Promise.all([client.invalidateQueries({ queryKey: queryKeys.discovered }), client.invalidateQueries({ queryKey: queryKeys.dongles })]),
  });
}

/** A change to a dongle: afterwards every ['dongles', …] query (list, detail, config, commands) and the groups refetch. */
export function useDongleAction<T>(action: (arg: T) => Promise<unknown>) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: action,
    onSettled: () => Promise.all([client.invalidateQueries({ queryKey: queryKeys.dongles }), client.invalidateQueries({ queryKey: queryKeys.groups })]),
  });
}
