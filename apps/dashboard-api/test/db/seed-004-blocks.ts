// Seed 004 (../shared/seeds/004_*.txt, beside the repository) holds three SQL checks written as
// PowerShell here-strings (`$name = @'` … `'@`), indented as a code block. The fixtures under
// test/fixtures/seed-004 are those blocks verbatim, dedented; this module finds and reads both.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../../src/platform/paths.ts';

/** Fixture file name ← the here-string variable in the seed. */
export const SEED_004_BLOCKS = {
  setup: 'setupSql',
  'fail-same-dongle': 'failSameSql',
  'fail-second-group': 'failUniqueSql',
} as const;

export type Seed004Block = keyof typeof SEED_004_BLOCKS;

export const seedsDir = path.resolve(repoRoot, '../shared/seeds');
export const fixturesDir = path.resolve(repoRoot, 'apps/dashboard-api/test/fixtures/seed-004');

/** The seed 004 file, or undefined when the seeds folder is not beside the repository. */
export function findSeed004(): string | undefined {
  if (!existsSync(seedsDir)) return undefined;
  const name = readdirSync(seedsDir).find((file) => /^004_.*\.txt$/.test(file));
  return name ? path.join(seedsDir, name) : undefined;
}

/** Every here-string block of the seed, by variable name, dedented, ending in one newline. */
export function extractHereStrings(text: string): Map<string, string> {
  const lines = text.split(/\r?\n/);
  const blocks = new Map<string, string>();
  for (let i = 0; i < lines.length; i++) {
    const opening = /\$(\w+) = @'\s*$/.exec(lines[i]!);
    if (!opening) continue;
    const indent = /^\s*/.exec(lines[i]!)![0].length;
    const body: string[] = [];
    for (i++; i < lines.length && lines[i]!.trim() !== "'@"; i++) body.push(lines[i]!.slice(indent));
    blocks.set(opening[1]!, `${body.join('\n')}\n`);
  }
  return blocks;
}

export function readFixture(block: Seed004Block): string {
  return readFileSync(path.join(fixturesDir, `${block}.sql`), 'utf8');
}
