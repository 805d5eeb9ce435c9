// npm run bench [-- name …]: runs every bench/*.bench.ts (or the named ones) against a real
// PostgreSQL (DATABASE_URL, or an embedded one made for the run), one after another, and writes
// their sections into doc/benchmarks.md. Each bench measures its own baseline in the same run.
//
// Contract for a bench file: `export default async function (ctx: BenchContext): Promise<string>`
// returning a markdown section (heading, table, notes).
import { mkdtempSync, readdirSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startEmbeddedPostgres } from '../src/tooling/embedded.ts';
import { applyMigrations } from '../src/tooling/migrator.ts';
import { repoRoot } from '../src/platform/paths.ts';

export interface BenchContext {
  /** A migrated database for this run. */
  databaseUrl: string;
  /** URL on the same server for creating scratch databases. */
  adminDatabaseUrl: string;
  log(line: string): void;
}

const here = path.dirname(fileURLToPath(import.meta.url));

function machine(): string {
  const cpus = os.cpus();
  return `${cpus.length} × ${cpus[0]?.model ?? 'unknown CPU'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${os.platform()} ${os.release()}`;
}

async function main() {
  const wanted = process.argv.slice(2).filter((arg) => !arg.startsWith('-'));
  const files = readdirSync(here)
    .filter((file) => file.endsWith('.bench.ts'))
    .filter((file) => wanted.length === 0 || wanted.includes(file.replace(/\.bench\.ts$/, '')))
    .sort();
  let stop = async () => undefined as void;
  let databaseUrl = process.env.DATABASE_URL;
  let adminDatabaseUrl = databaseUrl;
  if (!databaseUrl) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'fleet-bench-pg-'));
    chmodSync(dir, 0o755);
    const db = await startEmbeddedPostgres({ dataDir: path.join(dir, 'data'), database: 'fleet_bench', persistent: false });
    databaseUrl = db.url;
    adminDatabaseUrl = db.urlFor('postgres');
    stop = async () => {
      await db.stop();
      rmSync(dir, { recursive: true, force: true });
    };
  }
  try {
    await applyMigrations(databaseUrl);
    const sections: string[] = [];
    for (const file of files) {
      console.log(`\n=== ${file}`);
      const bench = (await import(pathToFileURL(path.join(here, file)).href)) as { default: (ctx: BenchContext) => Promise<string> };
      sections.push(await bench.default({ databaseUrl, adminDatabaseUrl: adminDatabaseUrl!, log: (line) => console.log(line) }));
    }
    const report = [
      '# Benchmarks',
      '',
      `Written by \`npm run bench\` on ${new Date().toISOString()}.`,
      `Machine: ${machine()}.`,
      'Every figure is compared with a baseline measured in the same run on the same machine.',
      '',
      ...sections,
    ].join('\n');
    if (wanted.length === 0) writeFileSync(path.join(repoRoot, 'doc/benchmarks.md'), `${report}\n`);
    else console.log(`\n${report}`);
  } finally {
    await stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
