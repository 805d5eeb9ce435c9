#!/usr/bin/env node
// Builds the operator dashboard (apps/dashboard-web → dist/) that the API serves at `/`.
// Run by the root `postinstall` (after prisma generate) and `prestart`, so `npm install` then
// `npm start` serves a current dashboard with no extra command. Skips the build when dist/ is
// newer than every source file (a restart costs nothing), and skips with one line when the web
// workspace is absent (an image built without it still runs the API).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const web = path.join(root, 'apps/dashboard-web');
const distIndex = path.join(web, 'dist/index.html');
// The form's bit-timing preview imports the API's pure arithmetic module.
const sources = ['src', 'public', 'index.html', 'vite.config.ts', 'package.json'].map((p) => path.join(web, p));
sources.push(path.join(root, 'apps/dashboard-api/src/features/can-config/bit-timing.ts'));

function newest(file) {
  if (!existsSync(file)) return 0;
  const stat = statSync(file);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(0, ...readdirSync(file).map((name) => newest(path.join(file, name))));
}

// (A Docker layer installs dependencies before the sources are copied: no index.html yet.)
if (!existsSync(path.join(web, 'index.html')) || !existsSync(path.join(root, 'node_modules/vite'))) {
  console.log('dashboard-web: sources or Vite not here, skipping the web build (the API runs without the dashboard).');
  process.exit(0);
}
const force = process.argv.includes('--force');
if (!force && existsSync(distIndex) && statSync(distIndex).mtimeMs >= Math.max(...sources.map(newest))) {
  console.log('dashboard-web: dist/ is up to date.');
  process.exit(0);
}
// NODE_ENV=production whatever the caller's (vitest sets 'test'): Vite would otherwise bundle
// React's development build.
const result = spawnSync('npm', ['run', 'build', '-w', 'apps/dashboard-web'], { cwd: root, stdio: 'inherit', env: { ...process.env, NODE_ENV: 'production' } });
process.exit(result.status ?? 1);
