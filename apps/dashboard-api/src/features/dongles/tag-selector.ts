// Tag selectors (doc/jobs.md#selectors): comma-separated terms, all of which must hold.
//
//   env=prod      the tag env has the value prod
//   env!=prod     env is absent or has another value
//   retired       the tag retired exists (any value)
//   !retired      the tag retired does not exist
//
// Parsing is strict and reports every bad term (422 with one detail each). Compiling produces
// SQL over dongles.tags that the GIN index serves: the `=` terms become one `@>` containment,
// existence is the `?` operator.
import { z } from 'zod';
import { TAG_KEY_PATTERN, TAG_VALUE_PATTERN } from './tag-rules.ts';

export const MAX_SELECTOR_TERMS = 20;
export const MAX_SELECTOR_LENGTH = 1_000;

export type SelectorTerm =
  | { kind: 'eq'; key: string; value: string }
  | { kind: 'neq'; key: string; value: string }
  | { kind: 'exists'; key: string }
  | { kind: 'absent'; key: string };

export interface SelectorProblem {
  /** 1-based term position, or 0 for the selector as a whole. */
  term: number;
  message: string;
}

export type ParsedSelector = { ok: true; terms: SelectorTerm[] } | { ok: false; problems: SelectorProblem[] };

export function parseSelector(text: string): ParsedSelector {
  if (text.length > MAX_SELECTOR_LENGTH) return { ok: false, problems: [{ term: 0, message: `selector must be at most ${MAX_SELECTOR_LENGTH} characters.` }] };
  if (text.trim() === '') return { ok: false, problems: [{ term: 0, message: 'selector must not be empty.' }] };
  const parts = text.split(',');
  if (parts.length > MAX_SELECTOR_TERMS) return { ok: false, problems: [{ term: 0, message: `selector has ${parts.length} terms; at most ${MAX_SELECTOR_TERMS} are allowed.` }] };
  const terms: SelectorTerm[] = [];
  const problems: SelectorProblem[] = [];
  parts.forEach((raw, index) => {
    const result = parseTerm(raw.trim());
    if (typeof result === 'string') problems.push({ term: index + 1, message: `term ${index + 1} ("${raw.trim().slice(0, 80)}"): ${result}` });
    else terms.push(result);
  });
  return problems.length > 0 ? { ok: false, problems } : { ok: true, terms };
}

function parseTerm(term: string): SelectorTerm | string {
  if (term === '') return 'empty term (two commas in a row, or a trailing comma).';
  const neq = term.indexOf('!=');
  const eq = term.indexOf('=');
  if (neq > -1 || eq > -1) {
    const [key, value] = neq > -1 && neq < eq ? [term.slice(0, neq), term.slice(neq + 2)] : [term.slice(0, eq), term.slice(eq + 1)];
    const negated = neq > -1 && neq < eq;
    if (key.startsWith('!')) return 'a negated term (!key) takes no value; use key!=value.';
    if (value.includes('=')) return 'more than one "=" in the term.';
    const keyProblem = checkKey(key.trim());
    if (keyProblem) return keyProblem;
    const valueProblem = checkValue(value.trim());
    if (valueProblem) return valueProblem;
    return { kind: negated ? 'neq' : 'eq', key: key.trim(), value: value.trim() };
  }
  if (term.startsWith('!')) {
    const key = term.slice(1).trim();
    return checkKey(key) ?? { kind: 'absent', key };
  }
  return checkKey(term) ?? { kind: 'exists', key: term };
}

function checkKey(key: string): string | undefined {
  if (key === '') return 'the key is missing.';
  if (!TAG_KEY_PATTERN.test(key)) return 'the key must be 1–63 characters of letters, digits, ".", "_", "-", "/", starting and ending with a letter or digit.';
  return undefined;
}

function checkValue(value: string): string | undefined {
  if (value === '') return 'the value is missing (use "key" to match any value).';
  if (!TAG_VALUE_PATTERN.test(value)) return 'the value must be 1–63 characters of letters, digits, ".", "_", "-", starting and ending with a letter or digit.';
  return undefined;
}

/**
 * SQL over `<alias>.tags` for pg placeholders starting at $`firstParam`. The `=` terms with
 * distinct keys merge into one containment (one GIN probe); a repeated key stays separate.
 */
export function selectorSql(terms: SelectorTerm[], alias: string, firstParam: number): { sql: string; params: unknown[] } {
  const params: unknown[] = [];
  const param = (value: unknown) => {
    params.push(value);
    return `$${firstParam + params.length - 1}`;
  };
  const contained: Record<string, string> = {};
  const rest: SelectorTerm[] = [];
  for (const term of terms) {
    if (term.kind === 'eq' && !(term.key in contained)) contained[term.key] = term.value;
    else rest.push(term);
  }
  const clauses: string[] = [];
  if (Object.keys(contained).length > 0) clauses.push(`${alias}.tags @> ${param(JSON.stringify(contained))}::jsonb`);
  for (const term of rest) {
    if (term.kind === 'eq') clauses.push(`${alias}.tags @> ${param(JSON.stringify({ [term.key]: term.value }))}::jsonb`);
    else if (term.kind === 'neq') clauses.push(`NOT (${alias}.tags @> ${param(JSON.stringify({ [term.key]: term.value }))}::jsonb)`);
    else if (term.kind === 'exists') clauses.push(`${alias}.tags ? ${param(term.key)}`);
    else clauses.push(`NOT (${alias}.tags ? ${param(term.key)})`);
  }
  return { sql: clauses.length > 0 ? clauses.join(' AND ') : 'TRUE', params };
}

/** A zod field for `?selector=` / `selector`: parsed terms, or one issue per bad term. */
export const selectorField = z.string().transform((text, ctx) => {
  const parsed = parseSelector(text);
  if (parsed.ok) return { text, terms: parsed.terms };
  for (const problem of parsed.problems) ctx.addIssue({ code: 'custom', message: problem.message });
  return z.NEVER;
});
export type Selector = z.output<typeof selectorField>;
