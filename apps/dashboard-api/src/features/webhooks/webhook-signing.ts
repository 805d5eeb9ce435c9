// Standard Webhooks signing (https://www.standardwebhooks.com): every delivery carries
//   webhook-id         the message id, the same on every retry (receivers deduplicate on it)
//   webhook-timestamp  unix seconds of this attempt
//   webhook-signature  "v1,<base64 HMAC-SHA256(key, `${id}.${timestamp}.${body}`)>", space-separated
//                      when several secrets are live (rotation overlap): receivers accept any one.
// Secrets are "whsec_" + base64 of 32 random bytes; the key is the decoded bytes.
import { createHmac, randomBytes } from 'node:crypto';

export const SECRET_PREFIX = 'whsec_';

export function generateWebhookSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString('base64');
}

function keyOf(secret: string): Buffer {
  return Buffer.from(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret, 'base64');
}

export function signatureFor(secret: string, messageId: string, timestampSeconds: number, body: string): string {
  const mac = createHmac('sha256', keyOf(secret)).update(`${messageId}.${timestampSeconds}.${body}`).digest('base64');
  return `v1,${mac}`;
}

export interface SignedHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/** Headers for one attempt, signed with every live secret (newest first). */
export function signedHeaders(secrets: readonly string[], messageId: string, body: string, now = new Date()): SignedHeaders {
  if (secrets.length === 0) throw new Error('a webhook needs at least one secret');
  const timestamp = Math.floor(now.getTime() / 1000);
  return {
    'webhook-id': messageId,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': secrets.map((secret) => signatureFor(secret, messageId, timestamp, body)).join(' '),
  };
}
