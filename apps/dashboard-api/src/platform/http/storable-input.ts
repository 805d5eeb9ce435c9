// The one input rule at the edge, applied to every route's params, query and body before any
// schema runs: text PostgreSQL cannot store, and JSON nested deeper than anything this API
// accepts, are a 422 naming the field. Without it a NUL byte reaches a text column (22021) or a
// jsonb value (22P05), a lone UTF-16 surrogate reaches jsonb, and a body nested thousands deep
// overflows the stack of the recursive schema validation: each a 500.
import type { ErrorDetail } from '../errors.ts';

/** Deeper than any body this API defines (a command result is at most a few levels). */
export const MAX_JSON_DEPTH = 32;

// NUL, or a high surrogate not followed by a low one, or a low surrogate not preceded by a high one.
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function problemWith(text: string): string | undefined {
  const match = UNSTORABLE.exec(text);
  if (!match) return undefined;
  return match[0] === '\u0000' ? 'must not contain a NUL character (U+0000).' : 'must be valid Unicode (no unpaired surrogate).';
}

/**
 * Every problem in `value` (a parsed JSON body, a query object or route params), with the path
 * of the field, as 422 details. Iterative and bounded by MAX_JSON_DEPTH, so a hostile body
 * cannot overflow the stack here either; the first too-deep branch ends the walk.
 */
export function unstorableInput(root: string, value: unknown): ErrorDetail[] {
  const details: ErrorDetail[] = [];
  const pending: Array<{ path: string; value: unknown; depth: number }> = [{ path: root, value, depth: 0 }];
  while (pending.length > 0 && details.length < 20) {
    const { path, value: current, depth } = pending.pop()!;
    if (typeof current === 'string') {
      const problem = problemWith(current);
      if (problem) details.push({ path, message: problem, code: 'unstorable_text' });
      continue;
    }
    if (current === null || typeof current !== 'object') continue;
    if (depth >= MAX_JSON_DEPTH) {
      details.push({ path, message: `is nested more than ${MAX_JSON_DEPTH} levels deep.`, code: 'too_deep' });
      break;
    }
    for (const [key, child] of Object.entries(current)) {
      const keyProblem = problemWith(key);
      if (keyProblem) {
        details.push({ path, message: `has a key that ${keyProblem}`, code: 'unstorable_text' });
        continue;
      }
      pending.push({ path: `${path}.${key}`, value: child, depth: depth + 1 });
    }
  }
  return details;
}
