import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, type AuditFilters, type Role, type UserStatus } from '../../lib/api.ts';
import { queryKeys } from '../../lib/query-keys.ts';

export interface UserQuery {
  email?: string;
  status?: UserStatus;
  role?: Role;
}

export const useUsers = (query: UserQuery) => useQuery({ queryKey: queryKeys.users(query), queryFn: () => api.users(query) });

export function useUpdateUser() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ id, change }: { id: string; change: { role?: Role; status?: UserStatus } }) => api.updateUser(id, change),
    onSettled: () => client.invalidateQueries({ queryKey: ['admin', 'users'] }),
  });
}

/** The audit log, newest first, one keyset page at a time ("Load older entries"). */
export const useAuditLog = (filters: AuditFilters) =>
  useInfiniteQuery({
    queryKey: queryKeys.audit(filters),
    queryFn: ({ pageParam }) => api.auditLog(filters, pageParam),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
