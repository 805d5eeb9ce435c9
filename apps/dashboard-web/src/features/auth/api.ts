// The session: who is logged in (null when nobody), kept in the query cache.
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { api, ApiError, setCsrfToken, type Session } from '../../lib/api.ts';
import { queryKeys } from '../../lib/query-keys.ts';

export async function fetchSession(): Promise<Session | null> {
  try {
    const session = await api.session();
    setCsrfToken(session.csrfToken);
    return session;
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      setCsrfToken(null);
      return null;
    }
    throw error;
  }
}

export function useSession() {
  return useQuery({ queryKey: queryKeys.session, queryFn: fetchSession, staleTime: 60_000, retry: false });
}

/** After login: remember the session (and its CSRF token) without another round trip. */
export function useSetSession() {
  const client = useQueryClient();
  return (session: Session | null) => {
    setCsrfToken(session?.csrfToken ?? null);
    if (!session) client.clear();
    client.setQueryData(queryKeys.session, session);
  };
}

/** Where to go after logging in: only a path on this site, never another origin. */
export function safeNext(next: string | null): string {
  return next && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/login') ? next : '/';
}
