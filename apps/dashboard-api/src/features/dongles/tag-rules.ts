// What a tag may be (doc/jobs.md#tags): keys and values of 1–63 characters, letters and digits
// at both ends; keys may also contain "/" (for prefixes such as "site/room"). At most
// MAX_TAGS_PER_DONGLE per dongle, so a tag set stays a small jsonb object.
import { z } from 'zod';

export const MAX_TAGS_PER_DONGLE = 20;
export const TAG_KEY_PATTERN = /^[A-Za-z0-9](?:[A-Za-z0-9._/-]{0,61}[A-Za-z0-9])?$/;
export const TAG_VALUE_PATTERN = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/;

export const tagKey = z.string().regex(TAG_KEY_PATTERN, {
  message: 'tag keys are 1–63 characters of letters, digits, ".", "_", "-", "/", starting and ending with a letter or digit.',
});
export const tagValue = z.string().regex(TAG_VALUE_PATTERN, {
  message: 'tag values are 1–63 characters of letters, digits, ".", "_", "-", starting and ending with a letter or digit.',
});
export const tagMap = z.record(tagKey, tagValue).refine((tags) => Object.keys(tags).length <= MAX_TAGS_PER_DONGLE, {
  message: `at most ${MAX_TAGS_PER_DONGLE} tags.`,
});
export type TagMap = Record<string, string>;
