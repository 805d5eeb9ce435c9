// Firmware images of the organization: upload one (the bytes as application/octet-stream, with
// its version and hardware target; optionally a detached Ed25519 signature) and the list.
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Badge } from '../../../components/ui/badge.tsx';
import { Button } from '../../../components/ui/button.tsx';
import { Empty, ErrorMessage, Loading, Notice } from '../../../components/ui/feedback.tsx';
import { Field } from '../../../components/ui/field.tsx';
import { api, ApiError, type FirmwareMeta } from '../../../lib/api.ts';
import { dateTime } from '../../../lib/format.ts';
import { may } from '../../../lib/permissions.ts';
import { queryKeys } from '../../../lib/query-keys.ts';
import { useTitle } from '../../../lib/use-title.ts';
import { useFirmwareImages } from '../../jobs/api.ts';
import { useOrg } from '../../orgs/org-context.tsx';

const size = (bytes: number) => (bytes < 1024 ? `${bytes} B` : bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(1)} KiB` : `${(bytes / 1024 / 1024).toFixed(2)} MiB`);

function Upload() {
  const { orgId } = useOrg();
  const client = useQueryClient();
  const [done, setDone] = useState<string | null>(null);
  const upload = useMutation({
    mutationFn: ({ meta, file }: { meta: FirmwareMeta; file: File }) => api.uploadFirmware(orgId, meta, file),
    onSuccess: (image) => setDone(`${image.version} for ${image.chipFamily}/${image.boardRevision}`),
    onSettled: () => client.invalidateQueries({ queryKey: queryKeys.firmware(orgId) }),
  });
  const fields = upload.error instanceof ApiError ? upload.error.fieldErrors() : {};
  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const data = new FormData(form);
    const file = data.get('image');
    if (!(file instanceof File) || file.size === 0) return;
    const text = (name: string) => String(data.get(name) ?? '').trim();
    const meta: FirmwareMeta = { version: text('version'), chipFamily: text('chipFamily'), boardRevision: text('boardRevision') };
    if (text('signature')) Object.assign(meta, { signature: text('signature'), signingKeyId: text('signingKeyId') });
    setDone(null);
    upload.mutate({ meta, file }, { onSuccess: () => form.reset() });
  }
  return (
    <form className="card" onSubmit={submit} aria-label="Upload a firmware image">
      <h2>Upload an image</h2>
      <div className="grid-3">
        <Field label="Image file" name="image" type="file" required />
        <Field label="Version (semver)" name="version" required placeholder="1.4.0" error={fields['query.version']} />
        <Field label="Chip family" name="chipFamily" required placeholder="stm32g4" error={fields['query.chipFamily']} />
        <Field label="Board revision" name="boardRevision" required placeholder="rev-b" error={fields['query.boardRevision']} />
        <Field label="Signature (base64, optional)" name="signature" error={fields['query.signature']} />
        <Field label="Signing key id (with a signature)" name="signingKeyId" error={fields['query.signingKeyId']} />
      </div>
      <Button type="submit" variant="primary" busy={upload.isPending}>
        Upload
      </Button>
      <ErrorMessage error={upload.error} />
      {done && <Notice>Uploaded {done}.</Notice>}
    </form>
  );
}

export function FirmwarePage() {
  useTitle('Firmware');
  const { role } = useOrg();
  const images = useFirmwareImages();
  return (
    <section>
      <h1>Firmware</h1>
      <p className="muted">Images are stored with their SHA-256; a firmware job hands them to each dongle's agent, which checks the hash (and signature) before flashing.</p>
      {may(role, 'fleet.operate') && <Upload />}
      <ErrorMessage error={images.error} />
      {images.isPending ? (
        <Loading />
      ) : images.data?.length === 0 ? (
        <Empty>No image yet.</Empty>
      ) : (
        <div className="table-wrap" role="region" aria-label="Firmware images" tabIndex={0}>
          <table className="table" data-testid="firmware-table">
            <thead>
              <tr>
                <th scope="col">Version</th>
                <th scope="col">Target</th>
                <th scope="col">Size</th>
                <th scope="col">SHA-256</th>
                <th scope="col">Signed</th>
                <th scope="col">Uploaded</th>
              </tr>
            </thead>
            <tbody>
              {images.data?.map((i) => (
                <tr key={i.id}>
                  <td>{i.version}</td>
                  <td>{i.chipFamily}/{i.boardRevision}</td>
                  <td>{size(i.size)}</td>
                  <td className="mono" title={i.sha256}>{i.sha256.slice(0, 16)}…</td>
                  <td>{i.signed ? <Badge tone="ok">signed</Badge> : <Badge tone="neutral">unsigned</Badge>}</td>
                  <td>{dateTime(i.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
