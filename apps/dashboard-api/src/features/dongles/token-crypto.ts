// Dongle tokens at rest (§5): AES-256-GCM under a versioned key ring from DONGLE_TOKEN_KEYS,
// e.g. "1:<base64 32 bytes>,2:<base64 32 bytes>". New tokens use the highest version; older
// versions stay so existing rows still decrypt until the rotation command re-seals them.
// The dongle id is bound as additional authenticated data, so a sealed token copied onto
// another dongle's row does not decrypt.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const ALGORITHM = 'aes-256-gcm';
export const KEY_BYTES = 32;
export const NONCE_BYTES = 12;
export const AUTH_TAG_BYTES = 16;
export const DONGLE_TOKEN_BYTES = 32;
// key_version is a PostgreSQL integer column.
const MAX_KEY_VERSION = 2_147_483_647;
// Domain separation: this key ring's ciphertexts are only ever dongle tokens.
const AAD_PREFIX = 'fleet-dashboard/dongle-token/v1:';

export const DEV_KEY_FILE = 'dongle-keys.json';

/** What a dongle_tokens row stores. */
export interface SealedToken {
  keyVersion: number;
  nonce: Buffer;
  ciphertext: Buffer;
  authTag: Buffer;
}

export interface DongleTokenKeyRing {
  /** The highest version: every new encryption uses it. */
  readonly currentVersion: number;
  /** Every version this ring can decrypt, ascending. */
  readonly versions: readonly number[];
  encrypt(dongleId: string, plaintext: Buffer): SealedToken;
  decrypt(dongleId: string, sealed: SealedToken): Buffer;
  /** True when the row was sealed under an older key than the current one. */
  needsReseal(sealed: SealedToken): boolean;
  /** Decrypts and encrypts again under the current key with a fresh nonce (key rotation). */
  reseal(dongleId: string, sealed: SealedToken): SealedToken;
}

/** DONGLE_TOKEN_KEYS (or a key map) is malformed. Messages never contain key material. */
export class KeyRingConfigError extends Error {
  override name = 'KeyRingConfigError';
}

/** The row was sealed under a key version this process does not have. */
export class UnknownKeyVersionError extends Error {
  override name = 'UnknownKeyVersionError';
  constructor(readonly keyVersion: number) {
    super(`Dongle token key version ${keyVersion} is not in the key ring.`);
  }
}

/** Authentication failed: tampered data, wrong dongle, or wrong key. Deliberately says no more. */
export class TokenDecryptError extends Error {
  override name = 'TokenDecryptError';
  constructor() {
    super('Dongle token could not be decrypted.');
  }
}

/** 32 random bytes: the secret a dongle stores and proves possession with. */
export function generateDongleToken(): Buffer {
  return randomBytes(DONGLE_TOKEN_BYTES);
}

// ------------------------------------------------------------------ parsing the environment

const VERSION_PATTERN = /^[1-9][0-9]*$/;
// Standard or URL-safe alphabet, padding optional; Buffer.from would silently skip junk.
const BASE64_PATTERN = /^[A-Za-z0-9+/_-]+={0,2}$/;

/** Parses "1:<base64>,2:<base64>" into version → 32-byte key. */
export function parseKeyRing(spec: string): Map<number, Buffer> {
  const entries = spec.split(',').map((entry) => entry.trim());
  if (entries.length === 1 && entries[0] === '') {
    throw new KeyRingConfigError('Dongle token key ring is empty: expected "<version>:<base64 key>[,...]".');
  }
  const keys = new Map<number, Buffer>();
  entries.forEach((entry, index) => {
    const { version, key } = parseEntry(entry, index + 1);
    if (keys.has(version)) throw new KeyRingConfigError(`Dongle token key version ${version} appears more than once.`);
    keys.set(version, key);
  });
  return keys;
}

function parseEntry(entry: string, position: number): { version: number; key: Buffer } {
  const where = `Dongle token key entry #${position}`;
  const colon = entry.indexOf(':');
  if (colon < 0) throw new KeyRingConfigError(`${where} is not of the form "<version>:<base64 key>".`);
  const versionText = entry.slice(0, colon).trim();
  const keyText = entry.slice(colon + 1).trim();
  if (!VERSION_PATTERN.test(versionText) || Number(versionText) > MAX_KEY_VERSION) {
    throw new KeyRingConfigError(`${where}: the version must be a positive integer up to ${MAX_KEY_VERSION}.`);
  }
  const version = Number(versionText);
  if (!BASE64_PATTERN.test(keyText)) {
    throw new KeyRingConfigError(`${where} (version ${version}): the key is not valid base64.`);
  }
  // Node's base64 decoder reads both alphabets.
  const key = Buffer.from(keyText, 'base64');
  if (key.length !== KEY_BYTES) {
    throw new KeyRingConfigError(
      `${where} (version ${version}): the key must decode to exactly ${KEY_BYTES} bytes, not ${key.length}.`,
    );
  }
  return { version, key };
}

/** The inverse of parseKeyRing, for writing development key files. */
export function formatKeyRing(keys: ReadonlyMap<number, Buffer>): string {
  return [...keys.entries()]
    .sort(([a], [b]) => a - b)
    .map(([version, key]) => `${version}:${key.toString('base64')}`)
    .join(',');
}

// ------------------------------------------------------------------ the ring

/** Builds a ring from version → key; the highest version becomes current. Keys are copied. */
export function createKeyRing(keys: ReadonlyMap<number, Buffer>): DongleTokenKeyRing {
  const ring = copyValidatedKeys(keys);
  const versions = [...ring.keys()].sort((a, b) => a - b);
  const currentVersion = versions[versions.length - 1];
  if (currentVersion === undefined) throw new KeyRingConfigError('Dongle token key ring has no keys.');

  const keyFor = (version: number): Buffer => {
    const key = ring.get(version);
    if (!key) throw new UnknownKeyVersionError(version);
    return key;
  };
  const encrypt = (dongleId: string, plaintext: Buffer): SealedToken =>
    sealWithKey(currentVersion, keyFor(currentVersion), dongleId, plaintext);
  const decrypt = (dongleId: string, sealed: SealedToken): Buffer => openWithKey(keyFor(sealed.keyVersion), dongleId, sealed);

  return Object.freeze({
    currentVersion,
    versions: Object.freeze(versions),
    encrypt,
    decrypt,
    needsReseal: (sealed: SealedToken) => sealed.keyVersion !== currentVersion,
    reseal: (dongleId: string, sealed: SealedToken) => encrypt(dongleId, decrypt(dongleId, sealed)),
  });
}

/** parseKeyRing + createKeyRing. */
export function keyRingFromSpec(spec: string): DongleTokenKeyRing {
  return createKeyRing(parseKeyRing(spec));
}

function copyValidatedKeys(keys: ReadonlyMap<number, Buffer>): Map<number, Buffer> {
  const copy = new Map<number, Buffer>();
  for (const [version, key] of keys) {
    if (!Number.isInteger(version) || version < 1 || version > MAX_KEY_VERSION) {
      throw new KeyRingConfigError(`Dongle token key version ${String(version)} is not a positive integer.`);
    }
    if (key.length !== KEY_BYTES) {
      throw new KeyRingConfigError(`Dongle token key version ${version} must be exactly ${KEY_BYTES} bytes.`);
    }
    // A private copy: callers may zero or reuse their buffers.
    copy.set(version, Buffer.from(key));
  }
  return copy;
}

function additionalData(dongleId: string): Buffer {
  return Buffer.from(AAD_PREFIX + dongleId, 'utf8');
}

function sealWithKey(keyVersion: number, key: Buffer, dongleId: string, plaintext: Buffer): SealedToken {
  // A fresh random 96-bit nonce per encryption; at one token per dongle, collisions are moot.
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv(ALGORITHM, key, nonce, { authTagLength: AUTH_TAG_BYTES });
  cipher.setAAD(additionalData(dongleId));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { keyVersion, nonce, ciphertext, authTag: cipher.getAuthTag() };
}

function openWithKey(key: Buffer, dongleId: string, sealed: SealedToken): Buffer {
  // Node accepts short GCM tags unless told otherwise; only the full 16 bytes are acceptable.
  if (sealed.nonce.length !== NONCE_BYTES || sealed.authTag.length !== AUTH_TAG_BYTES) throw new TokenDecryptError();
  try {
    const decipher = createDecipheriv(ALGORITHM, key, sealed.nonce, { authTagLength: AUTH_TAG_BYTES });
    decipher.setAAD(additionalData(dongleId));
    decipher.setAuthTag(sealed.authTag);
    return Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]);
  } catch {
    // No cause attached: the library's message adds nothing a caller should see or log.
    throw new TokenDecryptError();
  }
}

// ------------------------------------------------------------------ development keys

interface DevKeyFile {
  keys: string;
}

/**
 * Development only: returns the key-ring spec stored in <dataDir>/dongle-keys.json, creating
 * the file (mode 0600) with one random version-1 key on first use. Production must configure
 * DONGLE_TOKEN_KEYS itself; losing this file makes existing dongle tokens unreadable.
 */
export function loadOrCreateDevKeyRing(dataDir: string): string {
  const file = path.join(dataDir, DEV_KEY_FILE);
  const existing = readDevKeyFile(file);
  if (existing !== null) return existing;
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const spec = formatKeyRing(new Map([[1, randomBytes(KEY_BYTES)]]));
  const content: DevKeyFile = { keys: spec };
  // Write a private temp file, then hard-link it into place: the key file appears complete or
  // not at all, and if another process won the race, its key (already in use) is the one kept.
  const temporary = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(content, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  try {
    linkSync(temporary, file);
    return spec;
  } catch (error) {
    if (!isErrnoCode(error, 'EEXIST')) throw error;
    const winner = readDevKeyFile(file);
    if (winner === null) throw new KeyRingConfigError(`${file} vanished while it was being created; start again.`);
    return winner;
  } finally {
    rmSync(temporary, { force: true });
  }
}

function readDevKeyFile(file: string): string | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if (isErrnoCode(error, 'ENOENT')) return null;
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new KeyRingConfigError(`${file} is not valid JSON; fix or delete it (deleting makes stored dongle tokens unreadable).`);
  }
  if (!isDevKeyFile(parsed)) throw new KeyRingConfigError(`${file} must be a JSON object {"keys": "<version>:<base64 key>,..."}.`);
  parseKeyRing(parsed.keys); // validate now, with the same clear messages as the environment
  return parsed.keys;
}

function isDevKeyFile(value: unknown): value is DevKeyFile {
  return typeof value === 'object' && value !== null && typeof (value as { keys?: unknown }).keys === 'string';
}

function isErrnoCode(error: unknown, code: string): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === code;
}
