// Where the dongle-token key ring comes from: DONGLE_TOKEN_KEYS when set (production refuses to
// start without it, see config.ts), otherwise a development ring kept under DATA_DIR.
import type { Config } from '../../config.ts';
import { keyRingFromSpec, loadOrCreateDevKeyRing, type DongleTokenKeyRing } from './token-crypto.ts';

export function keyRingSpec(config: Pick<Config, 'dongleTokenKeys' | 'isProduction' | 'dataDir'>): string {
  if (config.dongleTokenKeys) return config.dongleTokenKeys;
  if (config.isProduction) throw new Error('DONGLE_TOKEN_KEYS is required in production.');
  return loadOrCreateDevKeyRing(config.dataDir);
}

/**
 * A configured ring is parsed now, so a malformed DONGLE_TOKEN_KEYS stops the start; the
 * development ring is created on first use, so processes that never touch a dongle token
 * (tests of other features, CLI commands) leave no key file behind.
 */
export function lazyKeyRing(config: Pick<Config, 'dongleTokenKeys' | 'isProduction' | 'dataDir'>): () => DongleTokenKeyRing {
  let ring = config.dongleTokenKeys ? keyRingFromSpec(config.dongleTokenKeys) : undefined;
  return () => (ring ??= keyRingFromSpec(keyRingSpec(config)));
}
