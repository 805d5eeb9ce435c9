// Between token-crypto's SealedToken (Buffers) and a dongle_tokens row (Prisma Bytes).
import type { SealedToken } from './token-crypto.ts';

const bytes = (buffer: Buffer) => Uint8Array.from(buffer);

export function sealedToRow(sealed: SealedToken) {
  return { keyVersion: sealed.keyVersion, nonce: bytes(sealed.nonce), ciphertext: bytes(sealed.ciphertext), authTag: bytes(sealed.authTag) };
}

export function rowToSealed(row: { keyVersion: number; nonce: Uint8Array; ciphertext: Uint8Array; authTag: Uint8Array }): SealedToken {
  return { keyVersion: row.keyVersion, nonce: Buffer.from(row.nonce), ciphertext: Buffer.from(row.ciphertext), authTag: Buffer.from(row.authTag) };
}
