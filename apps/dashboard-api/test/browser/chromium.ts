// Where Chromium is (Debian's package, or CHROMIUM_PATH). Kept free of test imports: the global
// setup reads it to print the one "skipped" line.
import { existsSync } from 'node:fs';

const candidate = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const chromiumPath: string | null = existsSync(candidate) ? candidate : null;
export const SKIP_LINE = `Browser tests SKIPPED: no Chromium at ${candidate} (apt-get install chromium, or set CHROMIUM_PATH).`;
