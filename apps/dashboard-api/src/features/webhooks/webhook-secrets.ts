// Webhook secrets at rest: we must sign with them, so they are encrypted (not hashed) under the
// DONGLE_TOKEN_KEYS ring, bound to the webhook id ("webhook:<id>" as additional data, which no
// dongle id can equal), packed as version(4) | nonce(12) | tag(16) | ciphertext.
import type { DongleTokenKeyRing } from '../dongles/token-crypto.ts';
import { AUTH_TAG_BYTES, NONCE_BYTES } from '../dongles/token-crypto.ts';

const binding = (webhookId: string) => `webhook:${webhookId}`;

export function sealSecret(ring: DongleTokenKeyRing, webhookId: string, secret: string): Uint8Array<ArrayBuffer> {
  const sealed = ring.encrypt(binding(webhookId), Buffer.from(secret, 'utf8'));
  const version = Buffer.alloc(4);
  version.writeUInt32BE(sealed.keyVersion);
  return new Uint8Array(Buffer.concat([version, sealed.nonce, sealed.authTag, sealed.ciphertext]));
}

export function openSecret(ring: DongleTokenKeyRing, webhookId: string, packed: Uint8Array): string {
  const bytes = Buffer.from(packed);
  const nonceEnd = 4 + NONCE_BYTES;
  const tagEnd = nonceEnd + AUTH_TAG_BYTES;
  return ring
    .decrypt(binding(webhookId), {
      keyVersion: bytes.readUInt32BE(0),
      nonce: bytes.subarray(4, nonceEnd),
      authTag: bytes.subarray(nonceEnd, tagEnd),
      ciphertext: bytes.subarray(tagEnd),
    })
    .toString('utf8');
}

/** The secrets to sign with now: the current one, plus the previous one during its overlap. */
export function liveSecrets(
  ring: DongleTokenKeyRing,
  row: { id: string; secretSealed: Uint8Array; previousSecretSealed: Uint8Array | null; previousSecretExpiresAt: Date | null },
  now = new Date(),
): string[] {
  const secrets = [openSecret(ring, row.id, row.secretSealed)];
  if (row.previousSecretSealed && row.previousSecretExpiresAt && row.previousSecretExpiresAt > now) {
    secrets.push(openSecret(ring, row.id, row.previousSecretSealed));
  }
  return secrets;
}
