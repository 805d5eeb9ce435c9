// The secret scrubber every log that stores caller-provided values goes through: the audit log
// (recordAudit) and the event log (recordEvent).

// Keys whose values are secrets wherever they appear. Deliberately broad (a false positive only
// loses a detail), but anchored where a bare word would swallow ordinary fields: `hash` only as a
// suffix (so `rehashed` survives), `code` only for one-time codes (so `errorCode` survives).
const SECRET_KEY =
  /pass(word|phrase)?|token|secret|hash(es)?$|cookie|authorization|bearer|ciphertext|nonce|salt|credential|api_?key|private_?key|(encryption|signing|master)_?key|^key$|signature|csrf|session_?id|sid$|otp|totp|jwt|(^|enrollment|reset|verification|recovery|auth)_?code$/i;

const REDACTED = '[redacted]';

/** Secret-looking string values, whatever their key: auth headers, PEM keys, URL credentials. */
function scrubString(value: string): string {
  if (/^(bearer|basic)\s+\S/i.test(value) || /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(value)) return REDACTED;
  // postgres://user:password@host → postgres://user:[redacted]@host
  return value.replace(/(\/\/[^/:@\s]+:)[^/@\s]+@/g, `$1${REDACTED}@`);
}

/**
 * Drops secret-looking keys at any depth and redacts secret-looking values: a defence in depth,
 * not a licence to pass secrets. Also makes the value JSON-safe (bigint, binary, cycles).
 */
export function scrubSecrets(value: unknown, seen = new WeakSet<object>()): unknown {
  if (typeof value === 'string') return scrubString(value);
  if (typeof value === 'bigint') return value.toString();
  if (!value || typeof value !== 'object' || value instanceof Date) return value;
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return '[binary]';
  if (seen.has(value)) return '[circular]';
  seen.add(value);
  if (Array.isArray(value)) return value.map((inner) => scrubSecrets(inner, seen));
  return Object.fromEntries(
    Object.entries(value)
      .filter(([key]) => !SECRET_KEY.test(key))
      .map(([key, inner]) => [key, scrubSecrets(inner, seen)]),
  );
}
