import { z } from 'zod';

/** semver 2.0.0 (major.minor.patch, optional pre-release and build). */
const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;
const hardwareLabel = (field: string) =>
  z.string().regex(/^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,48}[A-Za-z0-9])?$/, { message: `${field} must be 1–50 letters, digits, ".", "_", "-".` });

export const uploadQuery = z
  .strictObject({
    version: z.string().max(64).regex(SEMVER, { message: 'version must be a semantic version such as 1.5.0.' }),
    chipFamily: hardwareLabel('chipFamily'),
    boardRevision: hardwareLabel('boardRevision'),
    /** base64 detached Ed25519 signature over the image bytes. */
    signature: z.base64({ message: 'signature must be base64.' }).max(200).optional(),
    signingKeyId: z.uuid().optional(),
  })
  .refine((q) => (q.signature === undefined) === (q.signingKeyId === undefined), { message: 'signature and signingKeyId go together.', path: ['signature'] });
export type UploadQuery = z.output<typeof uploadQuery>;

export const imageIdParams = z.strictObject({ id: z.uuid({ message: 'id must be a uuid.' }) });
export const agentImageParams = z.strictObject({ imageId: z.uuid({ message: 'imageId must be a uuid.' }) });

export const firmwareImageView = z.object({
  id: z.uuid(),
  version: z.string(),
  chipFamily: z.string(),
  boardRevision: z.string(),
  size: z.int(),
  sha256: z.string(),
  signed: z.boolean(),
  signingKeyId: z.uuid().nullable(),
  createdAt: z.iso.datetime(),
});
export type FirmwareImageView = z.infer<typeof firmwareImageView>;

export const signingKeyBody = z.strictObject({
  name: z.string().trim().min(1).max(100),
  /** Raw 32-byte Ed25519 public key in base64, or a PEM "PUBLIC KEY". */
  publicKey: z.string().min(1).max(1_000),
});

export const signingKeyView = z.object({
  id: z.uuid(),
  name: z.string(),
  /** base64 of the raw 32 bytes */
  publicKey: z.string(),
  revokedAt: z.iso.datetime().nullable(),
  createdAt: z.iso.datetime(),
});
