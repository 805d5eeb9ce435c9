import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, type NewJob } from '../../lib/api.ts';
import { live } from '../../lib/live.ts';
import { queryKeys } from '../../lib/query-keys.ts';
import { useOrgId } from '../orgs/org-context.tsx';

// Jobs change through job.* events (the scheduler's hand-outs and results), which invalidate
// the list and the job (its executions included): no polling while the stream is up.
/** The jobs, newest first, 100 a page ("Show more"); nextCursor is passed back as it came. */
export function useJobs() {
  const orgId = useOrgId();
  return useInfiniteQuery({
    queryKey: queryKeys.jobList(orgId),
    queryFn: ({ pageParam }) => api.jobs(orgId, pageParam),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextCursor ?? undefined,
    ...live,
  });
}

export function useJob(id: string) {
  const orgId = useOrgId();
  return useQuery({ queryKey: queryKeys.job(orgId, id), queryFn: () => api.job(orgId, id), ...live });
}

/** The executions in hand-out order, 200 a page ("Show more"; the opaque nextCursor passed back). */
export function useJobExecutions(id: string) {
  const orgId = useOrgId();
  return useInfiniteQuery({
    queryKey: queryKeys.jobExecutions(orgId, id),
    queryFn: ({ pageParam }) => api.jobExecutions(orgId, id, pageParam),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextCursor ?? undefined,
    ...live,
  });
}

export function useCreateJob() {
  const client = useQueryClient();
  const orgId = useOrgId();
  return useMutation({ mutationFn: (input: NewJob) => api.createJob(orgId, input), onSettled: () => client.invalidateQueries({ queryKey: queryKeys.jobList(orgId) }) });
}

export function useJobAction(id: string, action: 'pause' | 'resume' | 'cancel') {
  const client = useQueryClient();
  const orgId = useOrgId();
  const call = { pause: api.pauseJob, resume: api.resumeJob, cancel: api.cancelJob }[action];
  return useMutation({ mutationFn: () => call(orgId, id), onSettled: () => client.invalidateQueries({ queryKey: queryKeys.jobs(orgId) }) });
}

export function useFirmwareImages() {
  const orgId = useOrgId();
  return useQuery({ queryKey: queryKeys.firmware(orgId), queryFn: async () => (await api.firmwareImages(orgId)).items });
}
