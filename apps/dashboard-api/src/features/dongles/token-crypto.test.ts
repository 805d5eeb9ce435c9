import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AUTH_TAG_BYTES,
  DEV_KEY_FILE,
  KeyRingConfigError,
  NONCE_BYTES,
  TokenDecryptError,
  UnknownKeyVersionError,
  createKeyRing,
  formatKeyRing,
  generateDongleToken,
  keyRingFromSpec,
  loadOrCreateDevKeyRing,
  parseKeyRing,
  type SealedToken,
} from './token-crypto.ts';

const DONGLE_A = '3f1c2a4e-9b7d-4c1e-8a2f-5d6e7f809a1b';
const DONGLE_B = 'b2d4f6a8-1c3e-4a5b-9c7d-0e1f2a3b4c5d';

const key1 = randomBytes(32);
const key2 = randomBytes(32);
const spec1 = `1:${key1.toString('base64')}`;
const spec12 = `${spec1},2:${key2.toString('base64')}`;

/** Flips one bit of one byte: the smallest possible tampering. */
function flipped(buffer: Buffer, index = 0): Buffer {
  const copy = Buffer.from(buffer);
  copy[index] = (copy[index] ?? 0) ^ 0x01;
  return copy;
}

function configError(run: () => unknown): KeyRingConfigError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(KeyRingConfigError);
    return error as KeyRingConfigError;
  }
  throw new Error('expected a KeyRingConfigError');
}

describe('generateDongleToken', () => {
  it('returns 32 fresh random bytes each time', () => {
    const a = generateDongleToken();
    const b = generateDongleToken();
    expect(a).toHaveLength(32);
    expect(a.equals(b)).toBe(false);
  });
});

describe('parseKeyRing', () => {
  it('parses versions and 32-byte keys', () => {
    const keys = parseKeyRing(spec12);
    expect([...keys.keys()]).toEqual([1, 2]);
    expect(keys.get(1)?.equals(key1)).toBe(true);
    expect(keys.get(2)?.equals(key2)).toBe(true);
  });

  it('tolerates whitespace around entries and the url-safe alphabet', () => {
    const keys = parseKeyRing(` 1 : ${key1.toString('base64url')} ,\n 7:${key2.toString('base64')} `);
    expect(keys.get(1)?.equals(key1)).toBe(true);
    expect(keys.get(7)?.equals(key2)).toBe(true);
  });

  it('round-trips through formatKeyRing', () => {
    expect(formatKeyRing(parseKeyRing(spec12))).toBe(spec12);
  });

  it.each([
    ['an empty value', '', /empty/],
    ['an entry without a colon', key1.toString('base64'), /form "<version>:<base64 key>"/],
    ['a zero version', `0:${key1.toString('base64')}`, /positive integer/],
    ['a negative version', `-1:${key1.toString('base64')}`, /positive integer/],
    ['a fractional version', `1.5:${key1.toString('base64')}`, /positive integer/],
    ['a version beyond a database integer', `2147483648:${key1.toString('base64')}`, /positive integer/],
    ['a short key', `1:${randomBytes(16).toString('base64')}`, /exactly 32 bytes, not 16/],
    ['a long key', `1:${randomBytes(33).toString('base64')}`, /exactly 32 bytes, not 33/],
    ['a key that is not base64', `1:${'!'.repeat(44)}`, /not valid base64/],
    ['an empty key', '1:', /not valid base64/],
    ['a trailing comma', `${spec1},`, /entry #2/],
    ['a duplicate version', `${spec1},1:${key2.toString('base64')}`, /version 1 appears more than once/],
  ])('rejects %s with a clear message', (_label, spec, message) => {
    expect(configError(() => parseKeyRing(spec)).message).toMatch(message);
  });

  it('never echoes key material in its errors', () => {
    const secretish = randomBytes(31).toString('base64');
    const cases = [`1:${secretish}`, `x:${secretish}`, `${secretish}`, `1:${secretish}!`, `1:${key1.toString('base64')},1:${secretish}`];
    for (const spec of cases) {
      const message = configError(() => parseKeyRing(spec)).message;
      expect(message).not.toContain(secretish);
      expect(message).not.toContain(secretish.slice(0, 12));
      expect(message).not.toContain(key1.toString('base64').slice(0, 12));
    }
  });
});

describe('createKeyRing', () => {
  it('makes the highest version current', () => {
    const ring = createKeyRing(new Map([[2, key2], [1, key1]]));
    expect(ring.currentVersion).toBe(2);
    expect(ring.versions).toEqual([1, 2]);
  });

  it('rejects an empty map and keys of the wrong size', () => {
    expect(configError(() => createKeyRing(new Map())).message).toMatch(/no keys/);
    expect(configError(() => createKeyRing(new Map([[1, randomBytes(16)]]))).message).toMatch(/exactly 32 bytes/);
    expect(configError(() => createKeyRing(new Map([[0, key1]]))).message).toMatch(/positive integer/);
  });

  it('keeps its own copy of the keys', () => {
    const mutable = Buffer.from(key1);
    const ring = createKeyRing(new Map([[1, mutable]]));
    const sealed = ring.encrypt(DONGLE_A, Buffer.from('secret'));
    mutable.fill(0);
    expect(ring.decrypt(DONGLE_A, sealed).toString()).toBe('secret');
  });
});

describe('encrypt / decrypt', () => {
  const ring = keyRingFromSpec(spec1);

  it('round-trips a dongle token', () => {
    const token = generateDongleToken();
    const sealed = ring.encrypt(DONGLE_A, token);
    expect(sealed.keyVersion).toBe(1);
    expect(sealed.nonce).toHaveLength(NONCE_BYTES);
    expect(sealed.authTag).toHaveLength(AUTH_TAG_BYTES);
    expect(sealed.ciphertext).toHaveLength(token.length);
    expect(sealed.ciphertext.equals(token)).toBe(false);
    expect(ring.decrypt(DONGLE_A, sealed).equals(token)).toBe(true);
  });

  it('uses a fresh nonce for every encryption, so equal tokens seal differently', () => {
    const token = generateDongleToken();
    const first = ring.encrypt(DONGLE_A, token);
    const second = ring.encrypt(DONGLE_A, token);
    expect(first.nonce.equals(second.nonce)).toBe(false);
    expect(first.ciphertext.equals(second.ciphertext)).toBe(false);
  });

  describe('rejects tampering with a TokenDecryptError that says nothing more', () => {
    const token = generateDongleToken();
    const sealed = ring.encrypt(DONGLE_A, token);
    const cases: Array<[string, SealedToken]> = [
      ['ciphertext', { ...sealed, ciphertext: flipped(sealed.ciphertext, 5) }],
      ['auth tag', { ...sealed, authTag: flipped(sealed.authTag, 15) }],
      ['nonce', { ...sealed, nonce: flipped(sealed.nonce, 11) }],
      ['truncated auth tag', { ...sealed, authTag: sealed.authTag.subarray(0, 12) }],
      ['truncated ciphertext', { ...sealed, ciphertext: sealed.ciphertext.subarray(0, 31) }],
      ['short nonce', { ...sealed, nonce: sealed.nonce.subarray(0, 8) }],
    ];
    it.each(cases)('%s', (_part, tampered) => {
      expect(() => ring.decrypt(DONGLE_A, tampered)).toThrow(TokenDecryptError);
      try {
        ring.decrypt(DONGLE_A, tampered);
      } catch (error) {
        expect((error as Error).message).toBe('Dongle token could not be decrypted.');
        expect((error as Error).cause).toBeUndefined();
      }
    });
  });

  it('binds the dongle id: a token copied to another dongle does not decrypt', () => {
    const sealed = ring.encrypt(DONGLE_A, generateDongleToken());
    expect(() => ring.decrypt(DONGLE_B, sealed)).toThrow(TokenDecryptError);
    expect(() => ring.decrypt(DONGLE_A.toUpperCase(), sealed)).toThrow(TokenDecryptError);
  });

  it('does not decrypt under a different key of the same version', () => {
    const sealed = ring.encrypt(DONGLE_A, generateDongleToken());
    const impostor = createKeyRing(new Map([[1, randomBytes(32)]]));
    expect(() => impostor.decrypt(DONGLE_A, sealed)).toThrow(TokenDecryptError);
  });

  it('throws UnknownKeyVersionError, carrying the version, for a version not in the ring', () => {
    const sealed = { ...ring.encrypt(DONGLE_A, generateDongleToken()), keyVersion: 9 };
    expect(() => ring.decrypt(DONGLE_A, sealed)).toThrow(UnknownKeyVersionError);
    try {
      ring.decrypt(DONGLE_A, sealed);
    } catch (error) {
      expect((error as UnknownKeyVersionError).keyVersion).toBe(9);
    }
  });
});

describe('key rotation', () => {
  const oldRing = keyRingFromSpec(spec1);
  const newRing = keyRingFromSpec(spec12);

  it('still decrypts version-1 tokens after version 2 becomes current', () => {
    const token = generateDongleToken();
    const sealedUnder1 = oldRing.encrypt(DONGLE_A, token);
    expect(newRing.currentVersion).toBe(2);
    expect(newRing.decrypt(DONGLE_A, sealedUnder1).equals(token)).toBe(true);
  });

  it('encrypts new tokens under the current version', () => {
    const sealed = newRing.encrypt(DONGLE_A, generateDongleToken());
    expect(sealed.keyVersion).toBe(2);
    // A process that only knows key 1 cannot read it.
    expect(() => oldRing.decrypt(DONGLE_A, sealed)).toThrow(UnknownKeyVersionError);
  });

  it('re-seals an old token under the current key with a fresh nonce', () => {
    const token = generateDongleToken();
    const sealedUnder1 = oldRing.encrypt(DONGLE_A, token);
    expect(newRing.needsReseal(sealedUnder1)).toBe(true);
    const resealed = newRing.reseal(DONGLE_A, sealedUnder1);
    expect(resealed.keyVersion).toBe(2);
    expect(newRing.needsReseal(resealed)).toBe(false);
    expect(resealed.nonce.equals(sealedUnder1.nonce)).toBe(false);
    expect(newRing.decrypt(DONGLE_A, resealed).equals(token)).toBe(true);
    // Once re-sealed, key 1 could be retired.
    expect(keyRingFromSpec(`2:${key2.toString('base64')}`).decrypt(DONGLE_A, resealed).equals(token)).toBe(true);
  });

  it('refuses to re-seal a token bound to another dongle', () => {
    const sealed = oldRing.encrypt(DONGLE_A, generateDongleToken());
    expect(() => newRing.reseal(DONGLE_B, sealed)).toThrow(TokenDecryptError);
  });
});

describe('loadOrCreateDevKeyRing', () => {
  const dirs: string[] = [];
  const tempDir = (): string => {
    const dir = mkdtempSync(path.join(tmpdir(), 'dongle-keys-'));
    dirs.push(dir);
    return dir;
  };
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('creates a private key file with one version-1 key, in a directory it creates', () => {
    const dataDir = path.join(tempDir(), 'nested', 'data');
    const spec = loadOrCreateDevKeyRing(dataDir);
    const ring = keyRingFromSpec(spec);
    expect(ring.versions).toEqual([1]);
    const file = path.join(dataDir, DEV_KEY_FILE);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ keys: spec });
  });

  it('returns the same keys on the next start, so stored tokens stay readable', () => {
    const dataDir = tempDir();
    const first = loadOrCreateDevKeyRing(dataDir);
    const sealed = keyRingFromSpec(first).encrypt(DONGLE_A, Buffer.from('kept'));
    const second = loadOrCreateDevKeyRing(dataDir);
    expect(second).toBe(first);
    expect(keyRingFromSpec(second).decrypt(DONGLE_A, sealed).toString()).toBe('kept');
  });

  it('reads a file with several versions that a developer rotated by hand', () => {
    const dataDir = tempDir();
    writeFileSync(path.join(dataDir, DEV_KEY_FILE), JSON.stringify({ keys: spec12 }));
    expect(keyRingFromSpec(loadOrCreateDevKeyRing(dataDir)).currentVersion).toBe(2);
  });

  it('refuses a corrupt key file rather than silently replacing it', () => {
    const dataDir = tempDir();
    const file = path.join(dataDir, DEV_KEY_FILE);
    writeFileSync(file, '{"keys": ');
    expect(configError(() => loadOrCreateDevKeyRing(dataDir)).message).toMatch(/not valid JSON/);
    writeFileSync(file, JSON.stringify({ other: 1 }));
    expect(configError(() => loadOrCreateDevKeyRing(dataDir)).message).toMatch(/must be a JSON object/);
    writeFileSync(file, JSON.stringify({ keys: '1:abc' }));
    expect(configError(() => loadOrCreateDevKeyRing(dataDir)).message).toMatch(/exactly 32 bytes/);
    expect(readFileSync(file, 'utf8')).toBe(JSON.stringify({ keys: '1:abc' }));
  });
});
