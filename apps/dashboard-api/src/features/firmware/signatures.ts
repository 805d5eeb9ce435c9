// Ed25519 detached signatures over firmware images, with node:crypto. Public keys are stored as
// their raw 32 bytes; registration accepts those (base64) or a PEM SPKI "PUBLIC KEY".
import { createPublicKey, verify, type KeyObject } from 'node:crypto';

const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** Raw 32-byte key from base64 or PEM; undefined when it is not an Ed25519 public key. */
export function parseEd25519PublicKey(text: string): Buffer | undefined {
  try {
    if (text.includes('-----BEGIN PUBLIC KEY-----')) {
      const key = createPublicKey(text);
      if (key.asymmetricKeyType !== 'ed25519') return undefined;
      return (key.export({ format: 'der', type: 'spki' }) as Buffer).subarray(ED25519_SPKI_PREFIX.length);
    }
    const raw = Buffer.from(text, 'base64');
    if (raw.length !== 32 || raw.toString('base64') !== text.replace(/\s/g, '')) return undefined;
    publicKeyObject(raw); // throws when the bytes are no valid point encoding
    return raw;
  } catch {
    return undefined;
  }
}

export function publicKeyObject(raw: Buffer): KeyObject {
  return createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
}

export function verifyEd25519(rawPublicKey: Buffer, data: Buffer, signature: Buffer): boolean {
  try {
    return verify(null, data, publicKeyObject(rawPublicKey), signature);
  } catch {
    return false;
  }
}
