// Development-only secrets, generated once and kept under DATA_DIR (mode 0600), so a developer
// needs no configuration and sessions survive restarts. Production must configure its own.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { generateSecret } from '../platform/secrets.ts';

export function loadOrCreateDevSecret(dataDir: string, name: string): string {
  const file = path.join(dataDir, `${name}.secret`);
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const secret = generateSecret(48);
  writeFileSync(file, secret, { mode: 0o600 });
  return secret;
}
