// npm run keys:rotate [-- --batch-size N]
// Re-encrypts every dongle token under the newest key of DONGLE_TOKEN_KEYS (development: the
// ring under DATA_DIR). Runbook in doc/fleet.md: add the new key with a higher version, restart
// every instance, run this, check "remaining 0", and only then drop the old key.
// Exit codes: 0 done, 1 some tokens could not be decrypted (listed), 2 bad arguments, 3 some
// tokens were skipped because concurrent work held their rows: run again before dropping a key.
import { loadConfig } from '../config.ts';
import { keyRingSpec } from '../features/dongles/key-ring.ts';
import { keyRingFromSpec, type DongleTokenKeyRing } from '../features/dongles/token-crypto.ts';
import { DEFAULT_ROTATION_BATCH_SIZE, rotateDongleTokens } from '../features/dongles/token-rotation.ts';
import type { Database } from '../platform/database.ts';
import { consoleIo, parseCliArgs, runAsMain, withCliDatabase, type CliIo } from './cli-support.ts';

const USAGE = `usage: npm run keys:rotate [-- --batch-size N]
  --batch-size  tokens per transaction (default ${DEFAULT_ROTATION_BATCH_SIZE})`;

/** Runs the command; returns the exit code. Tests pass their own database, ring and output. */
export async function runKeysRotate(argv: string[], deps: { db?: Database; keyRing?: DongleTokenKeyRing; io?: CliIo } = {}): Promise<number> {
  const io = deps.io ?? consoleIo;
  const parsed = parseCliArgs(argv, { 'batch-size': { type: 'string' } }, USAGE, io);
  if ('exitCode' in parsed) return parsed.exitCode;
  const { values } = parsed;
  const batchSize = values['batch-size'] === undefined ? DEFAULT_ROTATION_BATCH_SIZE : Number(values['batch-size']);
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    io.err(`--batch-size must be a positive integer.\n${USAGE}`);
    return 2;
  }

  const ring = deps.keyRing ?? keyRingFromSpec(keyRingSpec(loadConfig()));
  return withCliDatabase(deps.db, async (db) => {
    io.out(`re-encrypting dongle tokens under key version ${ring.currentVersion} (ring has ${ring.versions.join(', ')})`);
    const result = await rotateDongleTokens(db, ring, {
      batchSize,
      onBatch: ({ batch, rotated, failed }) => io.out(`  batch ${batch}: ${rotated} re-encrypted so far, ${failed} failed`),
    });
    io.out(`done: ${result.rotated} re-encrypted in ${result.batches} batch(es), ${result.failed} failed, ${result.remaining} remaining under older keys; recorded as dongle_tokens.rotate.`);
    if (result.failed > 0) {
      io.err(`could not decrypt the tokens of these dongles (tampered, or their key is missing from the ring): ${result.failedDongleIds.join(', ')}`);
      return 1;
    }
    if (result.remaining > 0) {
      // Rows locked by a concurrent exchange, release or claim lapse are skipped, not waited for.
      io.err(`${result.remaining} token(s) still under older keys (locked by concurrent work); run again`);
      return 3;
    }
    return 0;
  });
}

runAsMain(import.meta.url, (argv) => runKeysRotate(argv));
