#!/usr/bin/env node
// Runs the Prisma CLI for the commands that need no native engine (generate, validate, format).
// The CLI insists on a schema-engine binary and would try to download one from Prisma's own
// host, which offline machines cannot reach; these commands never execute it, so pointing the
// variable at any existing file is enough. Migrations go through src/tooling/migrator.ts instead.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(root, 'apps/dashboard-api/package.json'));
const cli = require.resolve('prisma/build/index.js');

const env = { ...process.env };
env.PRISMA_SCHEMA_ENGINE_BINARY ??= process.execPath;
env.PRISMA_HIDE_UPDATE_MESSAGE = '1';
env.CHECKPOINT_DISABLE = '1';

const result = spawnSync(process.execPath, [cli, ...process.argv.slice(2)], { cwd: root, env, stdio: 'inherit' });
process.exit(result.status ?? 1);
