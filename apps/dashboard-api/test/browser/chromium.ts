// Where Chromium is (Debian's package, or CHROMIUM_PATH). Kept free of test imports: the global
// setup reads it to print the one "skipped" line.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../../src/platform/paths.ts';

const candidate = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const chromiumPath: string | null = existsSync(candidate) ? candidate : null;
export const SKIP_LINE = `Browser tests SKIPPED: no Chromium at ${candidate} (apt-get install chromium, or set CHROMIUM_PATH).`;

/**
 * The production build the browser tests load, made once per run by the global setup (before any
 * test file, so two files never build at once). Fast when dist/ is already current.
 */
export function buildWebApp(): void {
  const result = spawnSync(process.execPath, [path.join(repoRoot, 'scripts/build-web.mjs')], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`building apps/dashboard-web failed:\n${result.stdout}\n${result.stderr}`);
}
