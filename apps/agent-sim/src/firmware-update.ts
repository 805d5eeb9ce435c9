// What the simulated agent does with a FIRMWARE_UPDATE command, as a real one would: download the
// image through the agent route in ranges (so an interrupted download resumes where it stopped),
// check its SHA-256 and, when signed, its Ed25519 signature, then "flash" it. A refused image is
// never flashed; the refusal is the command's FAILED result, so the job shows it.
import { createHash, createPublicKey, verify } from 'node:crypto';
import type { AgentClient, AgentCommand, CommandResult } from './agent-client.ts';

export interface FirmwarePayload {
  imageId: string;
  version: string;
  chipFamily: string;
  boardRevision: string;
  size: number;
  sha256: string;
  signature: string | null;
  publicKey: string | null;
  downloadPath: string;
}

export interface UpdateOptions {
  /** Bytes per ranged request; each range after the first is a resume. Default 64 KiB. */
  chunkBytes: number;
  /** base64 raw Ed25519 keys the agent trusts; when set, a signature must verify under one of them. */
  trustedKeys?: string[];
  /** Refuse unsigned images. */
  requireSignature?: boolean;
}

export interface UpdateRecord {
  commandId: string;
  deviceId: string;
  version: string;
  outcome: 'flashed' | 'refused' | 'failed';
  reason?: string;
  requests: number;
}

const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

function verifies(rawKeyBase64: string, data: Buffer, signatureBase64: string): boolean {
  try {
    const key = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, Buffer.from(rawKeyBase64, 'base64')]), format: 'der', type: 'spki' });
    return verify(null, data, key, Buffer.from(signatureBase64, 'base64'));
  } catch {
    return false;
  }
}

/** Downloads and checks the image; `flash` runs only for an image that passed every check. */
export async function performUpdate(
  client: AgentClient,
  command: AgentCommand,
  options: UpdateOptions,
  flash: () => { ok: true } | { ok: false; error: string },
): Promise<{ result: CommandResult; record: UpdateRecord }> {
  const payload = command.payload as unknown as FirmwarePayload;
  const record: UpdateRecord = { commandId: command.id, deviceId: command.deviceId, version: payload.version, outcome: 'failed', requests: 0 };
  const refuse = (reason: string) => {
    record.outcome = 'refused';
    record.reason = reason;
    return { result: { status: 'FAILED' as const, error: `image refused: ${reason}` }, record };
  };

  const parts: Buffer[] = [];
  let received = 0;
  let total = payload.size;
  while (received < total) {
    const { bytes, total: announced } = await client.downloadFirmware(payload.downloadPath, { start: received, end: Math.min(received + options.chunkBytes, total) - 1 });
    record.requests += 1;
    total = announced;
    if (bytes.length === 0) break;
    parts.push(bytes);
    received += bytes.length;
  }
  const image = Buffer.concat(parts);
  if (image.length !== payload.size) return refuse(`size ${image.length} differs from the announced ${payload.size}`);
  const digest = createHash('sha256').update(image).digest('hex');
  if (digest !== payload.sha256) return refuse(`sha256 mismatch (got ${digest.slice(0, 12)}…, expected ${payload.sha256.slice(0, 12)}…)`);
  if (payload.signature) {
    const keys = options.trustedKeys ?? (payload.publicKey ? [payload.publicKey] : []);
    if (!keys.some((key) => verifies(key, image, payload.signature!))) return refuse('signature does not verify under a trusted key');
  } else if (options.requireSignature) {
    return refuse('the image is not signed');
  }
  const flashed = flash();
  if (!flashed.ok) {
    record.reason = flashed.error;
    return { result: { status: 'FAILED', error: flashed.error }, record };
  }
  record.outcome = 'flashed';
  return { result: { status: 'SUCCEEDED', result: { flashedVersion: payload.version, sha256: digest } }, record };
}
