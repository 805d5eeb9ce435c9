// The selected organization: every fleet page reads and writes through it. The choice is
// remembered per user in localStorage; without one (or when it is no longer mine: removed,
// deleted) the personal organization is selected.
import { useQuery } from '@tanstack/react-query';
import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from 'react';
import { ErrorMessage, Loading } from '../../components/ui/feedback.tsx';
import { api, type Org, type OrgRole } from '../../lib/api.ts';
import { queryKeys } from '../../lib/query-keys.ts';
import { useSession } from '../auth/api.ts';

interface OrgState {
  orgs: Org[];
  org: Org;
  orgId: string;
  role: OrgRole;
  select: (orgId: string) => void;
}

const OrgContext = createContext<OrgState | null>(null);

const storageKey = (userId: string) => `fleet.org.${userId}`;
function readChoice(userId: string): string | null {
  try {
    return localStorage.getItem(storageKey(userId));
  } catch {
    return null; // storage blocked: the personal organization every time
  }
}

export const useOrgs = () => useQuery({ queryKey: queryKeys.orgs, queryFn: async () => (await api.orgs()).items, staleTime: 30_000 });

export function OrgProvider({ children }: { children: ReactNode }) {
  const userId = useSession().data?.user.id ?? '';
  const orgs = useOrgs();
  const [chosen, setChosen] = useState(() => readChoice(userId));
  const select = useCallback(
    (orgId: string) => {
      try {
        localStorage.setItem(storageKey(userId), orgId);
      } catch {
        /* not remembered, still selected */
      }
      setChosen(orgId);
    },
    [userId],
  );
  const value = useMemo(() => {
    const list = orgs.data ?? [];
    const org = list.find((o) => o.id === chosen) ?? list.find((o) => o.personal) ?? list[0];
    return org ? { orgs: list, org, orgId: org.id, role: org.role, select } : null;
  }, [orgs.data, chosen, select]);
  if (orgs.isPending) return <Loading label="Loading your organizations…" />;
  if (!value) return <ErrorMessage error={orgs.error ?? new Error('You belong to no organization.')} />;
  return <OrgContext.Provider value={value}>{children}</OrgContext.Provider>;
}

export function useOrg(): OrgState {
  const state = useContext(OrgContext);
  if (!state) throw new Error('useOrg outside OrgProvider');
  return state;
}

export const useOrgId = () => useOrg().orgId;
