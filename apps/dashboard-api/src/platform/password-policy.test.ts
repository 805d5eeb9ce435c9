import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  MAX_PASSWORD_LENGTH,
  MIN_PASSWORD_LENGTH,
  PASSWORD_MESSAGES,
  checkPassword,
  isCommonPassword,
  normalizePassword,
  passwordLength,
  passwordSchema,
} from './password-policy.ts';

const listLines = readFileSync(new URL('./common-passwords.txt', import.meta.url), 'utf8').split('\n');
const entries = listLines.filter((line) => line !== '');

// Deliberately uncommon filler, so only the length rule is under test.
function uncommon(length: number): string {
  const alphabet = 'kq7vzx2mwjhr9';
  return Array.from({ length }, (_, i) => alphabet[i % alphabet.length]).join('');
}

const E_ACUTE_DECOMPOSED = 'e\u0301'; // two code points; NFC makes it one (U+00E9)
const LOCK = '\u{1F512}'; // one code point, two UTF-16 units

describe('length rules', () => {
  it('rejects 11 characters and accepts 12', () => {
    expect(checkPassword(uncommon(11))).toBe(PASSWORD_MESSAGES.tooShort);
    expect(checkPassword(uncommon(12))).toBeNull();
  });

  it('accepts 128 characters and rejects 129, without truncating', () => {
    const longest = uncommon(MAX_PASSWORD_LENGTH);
    expect(checkPassword(longest)).toBeNull();
    expect(passwordSchema.parse(longest)).toBe(longest);
    expect(checkPassword(uncommon(MAX_PASSWORD_LENGTH + 1))).toBe(PASSWORD_MESSAGES.tooLong);
  });

  it('counts code points, not UTF-16 units', () => {
    expect(LOCK.length).toBe(2);
    expect(passwordLength(LOCK.repeat(11))).toBe(11);
    // 22 UTF-16 units, but only 11 characters: too short.
    expect(checkPassword(LOCK.repeat(11))).toBe(PASSWORD_MESSAGES.tooShort);
    expect(checkPassword(LOCK.repeat(12))).toBeNull();
    // 256 UTF-16 units, but 128 characters: still allowed.
    expect(checkPassword(LOCK.repeat(MAX_PASSWORD_LENGTH))).toBeNull();
    expect(checkPassword(LOCK.repeat(MAX_PASSWORD_LENGTH + 1))).toBe(PASSWORD_MESSAGES.tooLong);
  });

  it('normalises to NFC before counting', () => {
    const decomposed = E_ACUTE_DECOMPOSED.repeat(8); // 16 code points as typed, 8 after NFC
    expect([...decomposed]).toHaveLength(16);
    expect(passwordLength(decomposed)).toBe(8);
    expect(checkPassword(decomposed)).toBe(PASSWORD_MESSAGES.tooShort);
  });

  it('counts every character, spaces included, and trims nothing', () => {
    const spaced = '   kq7v zx2m ';
    expect(passwordLength(spaced)).toBe(13);
    expect(checkPassword(spaced)).toBeNull();
    expect(passwordSchema.parse(spaced)).toBe(spaced);
    expect(checkPassword(' '.repeat(11) + 'k')).toBeNull();
  });
});

describe('no composition rules', () => {
  it.each([
    ['only lowercase letters', 'correct horse battery'],
    ['only digits', '839201746583'],
    ['a long passphrase', 'the tide comes in twice a day at brixham harbour'],
    ['non-Latin script', 'пароль-для-донгла'],
  ])('accepts %s', (_label, password) => {
    expect(checkPassword(password)).toBeNull();
  });
});

describe('common passwords', () => {
  it.each(['password1234', '123456789012', 'qwertyuiopas', '1qaz2wsx3edc', 'iloveyou1234'])('rejects %s', (password) => {
    expect(isCommonPassword(password)).toBe(true);
    expect(checkPassword(password)).toBe(PASSWORD_MESSAGES.tooCommon);
  });

  it('compares case-insensitively', () => {
    for (const password of ['PASSWORD1234', 'Password1234', 'QwErTyUiOpAs', 'ILoveYou1234']) {
      expect(checkPassword(password)).toBe(PASSWORD_MESSAGES.tooCommon);
    }
  });

  it('matches exactly, not by substring or after trimming', () => {
    expect(isCommonPassword('password1234x')).toBe(false);
    expect(isCommonPassword(' password1234')).toBe(false);
  });

  it('reports a short password as short, not as common', () => {
    expect(checkPassword('password')).toBe(PASSWORD_MESSAGES.tooShort);
  });
});

describe('the shipped list', () => {
  it('has at least 1000 entries', () => {
    expect(entries.length).toBeGreaterThanOrEqual(1000);
  });

  it('holds only lowercase, NFC entries of 12 to 128 characters, one per line, without duplicates', () => {
    const problems = entries.filter(
      (entry) =>
        entry !== entry.toLowerCase() ||
        entry !== entry.normalize('NFC') ||
        entry !== entry.trim() ||
        [...entry].length < MIN_PASSWORD_LENGTH ||
        [...entry].length > MAX_PASSWORD_LENGTH,
    );
    expect(problems).toEqual([]);
    expect(new Set(entries).size).toBe(entries.length);
    // Only a final newline; no blank lines in the middle, no CRLF.
    expect(listLines.indexOf('')).toBe(listLines.length - 1);
    expect(entries.some((entry) => entry.includes('\r'))).toBe(false);
  });

  it('is what the policy checks against: every entry is rejected', () => {
    const accepted = entries.filter((entry) => checkPassword(entry) !== PASSWORD_MESSAGES.tooCommon);
    expect(accepted).toEqual([]);
  });
});

describe('passwordSchema', () => {
  it('returns the NFC-normalised password, the form to hash', () => {
    const typed = `caf${E_ACUTE_DECOMPOSED} au lait 42`;
    const parsed = passwordSchema.parse(typed);
    expect(parsed).toBe(normalizePassword(typed));
    expect(parsed).toBe('caf\u00e9 au lait 42');
  });

  it('gives exactly one clear message per failure', () => {
    const messages = (input: unknown): string[] =>
      passwordSchema.safeParse(input).error?.issues.map((issue) => issue.message) ?? [];
    expect(messages('short')).toEqual(['Password must be at least 12 characters.']);
    expect(messages(uncommon(129))).toEqual(['Password must be at most 128 characters.']);
    expect(messages('Password1234')).toEqual(['This password is too common; choose another.']);
    expect(messages(123456789012)).toEqual(['Password must be a string.']);
    expect(messages(uncommon(20))).toEqual([]);
  });

  it('names the field when used inside a request schema', () => {
    const body = z.strictObject({ newPassword: passwordSchema });
    const issue = body.safeParse({ newPassword: 'qwertyuiopas' }).error?.issues[0];
    expect(issue?.path).toEqual(['newPassword']);
    expect(issue?.message).toBe(PASSWORD_MESSAGES.tooCommon);
  });

  it('declares its lengths for OpenAPI', () => {
    expect(z.toJSONSchema(passwordSchema)).toMatchObject({ type: 'string', minLength: 12, maxLength: 128 });
  });
});
