// Password policy (§6, after OWASP ASVS V6 / NIST 800-63B): 12 to 128 characters, no
// composition rules, never truncated, and not one of the shipped common passwords.
// Length counts Unicode code points after NFC normalisation, so "é" is one character whether it
// was typed precomposed or as e + combining accent, and an emoji is one character, not two.
import { readFileSync } from 'node:fs';
import { z } from 'zod';

export const MIN_PASSWORD_LENGTH = 12;
export const MAX_PASSWORD_LENGTH = 128;

export const PASSWORD_MESSAGES = Object.freeze({
  tooShort: `Password must be at least ${MIN_PASSWORD_LENGTH} characters.`,
  tooLong: `Password must be at most ${MAX_PASSWORD_LENGTH} characters.`,
  tooCommon: 'This password is too common; choose another.',
  blank: 'Password must not be only spaces or other blank characters.',
});

const COMMON_PASSWORDS_FILE = new URL('./common-passwords.txt', import.meta.url);

let commonPasswords: ReadonlySet<string> | undefined;

/**
 * The form a password is hashed and compared in. Login and every password change must use it,
 * so the same password typed on two keyboards (composed vs. decomposed accents) still matches.
 */
export function normalizePassword(password: string): string {
  return password.normalize('NFC');
}

/** Length in Unicode code points of the normalised password. */
export function passwordLength(password: string): number {
  let count = 0;
  for (const _codePoint of normalizePassword(password)) count += 1;
  return count;
}

/** True when the password is on the shipped list, ignoring case. */
export function isCommonPassword(password: string): boolean {
  return loadCommonPasswords().has(comparisonKey(password));
}

/** The first rule the password breaks, as a message for the user, or null when it is acceptable. */
export function checkPassword(password: string): string | null {
  const length = passwordLength(password);
  if (length < MIN_PASSWORD_LENGTH) return PASSWORD_MESSAGES.tooShort;
  if (length > MAX_PASSWORD_LENGTH) return PASSWORD_MESSAGES.tooLong;
  // Twelve spaces pass the length rule but are no secret (and look empty to the user).
  if (/^[\s\p{Cc}\p{Cf}]*$/u.test(password)) return PASSWORD_MESSAGES.blank;
  if (isCommonPassword(password)) return PASSWORD_MESSAGES.tooCommon;
  return null;
}

/**
 * For new passwords (signup, reset, change). Outputs the NFC-normalised password: hash that.
 * zod's own min/max count UTF-16 units, so the rules run in one refinement instead; the JSON
 * Schema lengths (which count code points, like this policy) are declared for OpenAPI.
 */
export const passwordSchema = z
  .string({ message: 'Password must be a string.' })
  .normalize('NFC')
  .superRefine((password, ctx) => {
    const problem = checkPassword(password);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  })
  .meta({ minLength: MIN_PASSWORD_LENGTH, maxLength: MAX_PASSWORD_LENGTH });

function comparisonKey(password: string): string {
  return normalizePassword(password).toLowerCase();
}

// Read once, on first use: most processes (agents' requests, workers) never need the list.
function loadCommonPasswords(): ReadonlySet<string> {
  if (!commonPasswords) {
    const lines = readFileSync(COMMON_PASSWORDS_FILE, 'utf8').split(/\r?\n/);
    commonPasswords = new Set(lines.filter((line) => line.length > 0).map(comparisonKey));
  }
  return commonPasswords;
}
