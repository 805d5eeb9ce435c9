import type { FormEvent } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useNavigate } from 'react-router';
import { Button } from '../../../components/ui/button.tsx';
import { ErrorMessage } from '../../../components/ui/feedback.tsx';
import { Field } from '../../../components/ui/field.tsx';
import { api, ApiError } from '../../../lib/api.ts';
import { queryKeys } from '../../../lib/query-keys.ts';
import { useTitle } from '../../../lib/use-title.ts';
import { useOrg } from '../org-context.tsx';

/** A new organization: I become its owner, and it becomes the selected one. */
export function CreateOrgPage() {
  useTitle('New organization');
  const client = useQueryClient();
  const { select } = useOrg();
  const navigate = useNavigate();
  const create = useMutation({
    mutationFn: (name: string) => api.createOrg(name),
    onSuccess: async (org) => {
      await client.invalidateQueries({ queryKey: queryKeys.orgs });
      select(org.id);
      navigate('/org/members');
    },
  });
  const fields = create.error instanceof ApiError ? create.error.fieldErrors() : {};
  return (
    <section>
      <h1>New organization</h1>
      <p className="muted">A team that shares a fleet: invite people with a role, and they see and work on the same agents, dongles, groups and jobs. You become its owner.</p>
      <form
        className="card"
        aria-label="New organization"
        onSubmit={(e: FormEvent<HTMLFormElement>) => {
          e.preventDefault();
          create.mutate(String(new FormData(e.currentTarget).get('name')).trim());
        }}
      >
        <Field label="Name" name="name" required maxLength={100} autoFocus error={fields.name} />
        <Button type="submit" variant="primary" busy={create.isPending}>
          Create organization
        </Button>
        <ErrorMessage error={create.error && !fields.name ? create.error : null} />
      </form>
    </section>
  );
}
