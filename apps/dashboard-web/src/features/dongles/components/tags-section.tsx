// A dongle's tags (key=value labels that job selectors and the fleet filter match). Operators
// add, change (same key) and remove them; viewers see them.
import type { FormEvent } from 'react';
import { Button } from '../../../components/ui/button.tsx';
import { ErrorMessage } from '../../../components/ui/feedback.tsx';
import { Field } from '../../../components/ui/field.tsx';
import { api, ApiError, type Dongle } from '../../../lib/api.ts';
import { useDongleAction } from '../api.ts';

export function TagsSection({ dongle, edit }: { dongle: Dongle; edit: boolean }) {
  const set = useDongleAction((orgId, tag: { key: string; value: string }) => api.setTag(orgId, dongle.id, tag.key, tag.value));
  const remove = useDongleAction((orgId, key: string) => api.removeTag(orgId, dongle.id, key));
  const fields = set.error instanceof ApiError ? set.error.fieldErrors() : {};
  const tags = Object.entries(dongle.tags ?? {}).sort(([a], [b]) => a.localeCompare(b));
  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const data = new FormData(form);
    set.mutate({ key: String(data.get('key')).trim(), value: String(data.get('value')).trim() }, { onSuccess: () => form.reset() });
  }
  return (
    <section className="card" aria-labelledby="tags-heading">
      <h2 id="tags-heading">Tags</h2>
      {tags.length === 0 ? (
        <p className="muted">No tag yet.</p>
      ) : (
        <ul className="tags" data-testid="dongle-tags">
          {tags.map(([key, value]) => (
            <li key={key} className="tag">
              <span className="mono">{key}={value}</span>
              {edit && (
                <Button variant="link" aria-label={`Remove tag ${key}`} onClick={() => remove.mutate(key)} disabled={remove.isPending}>
                  ×
                </Button>
              )}
            </li>
          ))}
        </ul>
      )}
      {edit && (
        <form className="inline-form" onSubmit={submit} aria-label="Add a tag">
          <Field label="Tag key" name="key" required maxLength={63} placeholder="env" error={fields.key ?? fields['params.key']} />
          <Field label="Tag value" name="value" required maxLength={63} placeholder="prod" error={fields.value} />
          <Button type="submit" busy={set.isPending}>
            Set tag
          </Button>
        </form>
      )}
      <ErrorMessage error={(set.error && !fields.value && !fields.key && !fields['params.key'] ? set.error : null) ?? remove.error} />
    </section>
  );
}
