// Re-encrypts every dongle token under the key ring's current key (npm run keys:rotate).
// Batches of rows in key-id order, each batch its own transaction: an interrupted run keeps
// what it committed and the next run picks up the rest (resumable); rows already under the
// current key are never selected (idempotent). Rows locked by a concurrent release are skipped
// and left for the next run. One system audit row records the counts.
import type { Database } from '../../platform/database.ts';
import { recordAudit } from '../../platform/audit/audit-writer.ts';
import { rowToSealed, sealedToRow } from './sealed-rows.ts';
import { TokenDecryptError, UnknownKeyVersionError, type DongleTokenKeyRing } from './token-crypto.ts';

export const DEFAULT_ROTATION_BATCH_SIZE = 500;

export interface RotationResult {
  keyVersion: number;
  rotated: number;
  /** Rows that could not be decrypted (tampered, or sealed under a key the ring lacks). */
  failed: number;
  failedDongleIds: string[];
  batches: number;
  /** Rows still under another key afterwards (failed or skipped); 0 means done. */
  remaining: number;
}

interface TokenRow {
  id: string;
  dongleId: string;
  keyVersion: number;
  nonce: Uint8Array;
  ciphertext: Uint8Array;
  authTag: Uint8Array;
}

export async function rotateDongleTokens(
  db: Pick<Database, 'prisma'>,
  ring: DongleTokenKeyRing,
  options: { batchSize?: number; onBatch?: (progress: { batch: number; rotated: number; failed: number }) => void } = {},
): Promise<RotationResult> {
  const batchSize = options.batchSize ?? DEFAULT_ROTATION_BATCH_SIZE;
  const current = ring.currentVersion;
  let after = '00000000-0000-0000-0000-000000000000';
  const result: RotationResult = { keyVersion: current, rotated: 0, failed: 0, failedDongleIds: [], batches: 0, remaining: 0 };

  for (;;) {
    const batch = await db.prisma.$transaction(async (tx) => {
      const rows = await tx.$queryRaw<TokenRow[]>`
        SELECT id::text AS "id", dongle_id::text AS "dongleId", key_version AS "keyVersion", nonce, ciphertext, auth_tag AS "authTag"
        FROM dongle_tokens
        WHERE key_version <> ${current} AND id > ${after}::uuid
        ORDER BY id LIMIT ${batchSize}
        FOR UPDATE SKIP LOCKED`;
      let rotated = 0;
      const failed: string[] = [];
      for (const row of rows) {
        let resealed;
        try {
          resealed = ring.reseal(row.dongleId, rowToSealed(row));
        } catch (error) {
          if (error instanceof TokenDecryptError || error instanceof UnknownKeyVersionError) {
            failed.push(row.dongleId);
            continue;
          }
          throw error;
        }
        const written = await tx.dongleToken.updateMany({ where: { id: row.id, keyVersion: row.keyVersion }, data: sealedToRow(resealed) });
        rotated += written.count;
      }
      return { rows: rows.length, last: rows[rows.length - 1]?.id, rotated, failed };
    });
    if (batch.rows === 0 || !batch.last) break;
    after = batch.last;
    result.batches += 1;
    result.rotated += batch.rotated;
    result.failed += batch.failed.length;
    result.failedDongleIds.push(...batch.failed);
    options.onBatch?.({ batch: result.batches, rotated: result.rotated, failed: result.failed });
  }

  result.remaining = await db.prisma.dongleToken.count({ where: { keyVersion: { not: current } } });
  await db.prisma.$transaction((tx) =>
    recordAudit(tx, {
      actor: { type: 'system' },
      action: 'dongle_tokens.rotate',
      result: result.failed > 0 ? 'failure' : 'success',
      details: { keyVersion: current, rotated: result.rotated, failed: result.failed, batches: result.batches, remaining: result.remaining, failedDongleIds: result.failedDongleIds.slice(0, 100) },
    }),
  );
  return result;
}
