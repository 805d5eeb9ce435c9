// Admin: force-release a dongle (stuck with a lost owner or agent): UNCLAIMED at once, its
// token, group and configuration destroyed.
import { useMutation } from '@tanstack/react-query';
import { useState } from 'react';
import { ConfirmButton } from '../../../components/ui/confirm.tsx';
import { ErrorMessage, Notice } from '../../../components/ui/feedback.tsx';
import { Field } from '../../../components/ui/field.tsx';
import { api, ApiError } from '../../../lib/api.ts';
import { useTitle } from '../../../lib/use-title.ts';

export function ForceReleasePage() {
  useTitle('Force-release');
  const [id, setId] = useState('');
  const release = useMutation({ mutationFn: (dongleId: string) => api.forceRelease(dongleId) });
  const fields = release.error instanceof ApiError ? release.error.fieldErrors() : {};
  return (
    <section>
      <h1>Force-release a dongle</h1>
      <div className="card">
        <p>For a dongle whose owner or agent is gone. It becomes unclaimed at once; its token, group membership and CAN configuration are destroyed. The dongle id is in the audit log (target id of its events).</p>
        <div>
          <Field label="Dongle id (uuid)" value={id} onChange={(e) => setId(e.target.value.trim())} className="mono" error={fields['params.id'] ?? fields.id} />
          <ConfirmButton label="Force-release…" title="Force-release this dongle?" confirmLabel="Force-release" busy={release.isPending} disabled={!id} onConfirm={() => release.mutate(id)}>
            <p>This cannot be undone. The owner loses the dongle and its configuration.</p>
          </ConfirmButton>
        </div>
        <ErrorMessage error={release.error} />
        {release.isSuccess && <Notice>{`Dongle ${release.data.deviceId} is now unclaimed.`}</Notice>}
      </div>
    </section>
  );
}
