// Where the dongle-token key ring comes from, and that a bad one stops the start.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { randomKey } from '../../../test/support/fleet.ts';
import { startTestApp } from '../../../test/support/test-app.ts';
import { keyRingSpec, lazyKeyRing } from './key-ring.ts';
import { DEV_KEY_FILE, KeyRingConfigError } from './token-crypto.ts';

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'fleet-keys-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('the dongle-token key ring', () => {
  it('uses DONGLE_TOKEN_KEYS when set, with the highest version current', () => {
    const ring = lazyKeyRing({ dongleTokenKeys: `1:${randomKey()},3:${randomKey()}`, isProduction: true, dataDir: tempDir() })();
    expect(ring.currentVersion).toBe(3);
    expect(ring.versions).toEqual([1, 3]);
  });

  it('refuses to run in production without keys', () => {
    expect(() => keyRingSpec({ dongleTokenKeys: undefined, isProduction: true, dataDir: tempDir() })).toThrow(/required in production/);
  });

  it('makes a development ring under DATA_DIR on first use only, and keeps it', () => {
    const dataDir = tempDir();
    const resolve = lazyKeyRing({ dongleTokenKeys: undefined, isProduction: false, dataDir });
    expect(existsSync(path.join(dataDir, DEV_KEY_FILE))).toBe(false);
    const ring = resolve();
    expect(existsSync(path.join(dataDir, DEV_KEY_FILE))).toBe(true);
    const sealed = ring.encrypt('dongle-1', Buffer.from('secret'));
    const again = lazyKeyRing({ dongleTokenKeys: undefined, isProduction: false, dataDir })();
    expect(again.decrypt('dongle-1', sealed).toString()).toBe('secret');
  });

  it('stops the app from starting with a malformed DONGLE_TOKEN_KEYS', async () => {
    await expect(startTestApp({ config: { dongleTokenKeys: '1:not-a-32-byte-key' } })).rejects.toBeInstanceOf(KeyRingConfigError);
  });
});
