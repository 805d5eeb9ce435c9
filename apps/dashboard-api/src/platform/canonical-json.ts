// JSON with object keys sorted at every depth, so two values that differ only in key order
// (jsonb does not keep it) serialize the same: request hashes for Idempotency-Key, an agent's
// repeated command result. `undefined` serializes as null.
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value) ?? null);
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).sort().map((key) => [key, sortKeys((value as Record<string, unknown>)[key])]));
  }
  return value;
}
