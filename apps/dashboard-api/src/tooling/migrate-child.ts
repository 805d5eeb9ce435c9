// Applies pending migrations in a short-lived child process, so the WebAssembly schema engine
// (about 60 MB resident once loaded) leaves with it instead of staying in the server for good.
// The parent forks this same file (compiled or not) and learns the outcome over IPC.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { applyMigrations, MigrationError } from './migrator.ts';

type Outcome = { applied: string[] } | { error: string; migrationError: boolean };

/** Runs applyMigrations(databaseUrl) in a child process; `log` receives its progress lines. */
export function applyMigrationsInChildProcess(databaseUrl: string, log: (line: string) => void): Promise<string[]> {
  return new Promise((resolve, reject) => {
    // The same loader flags (tsx in development, none for dist/) so the child runs this file as we do.
    const child = fork(fileURLToPath(import.meta.url), ['--child'], { execArgv: process.execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let outcome: Outcome | undefined;
    child.on('message', (message: { log?: string } & Partial<Outcome>) => {
      if (message.log !== undefined) log(message.log);
      else outcome = message as Outcome;
    });
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (outcome && 'applied' in outcome) resolve(outcome.applied);
      else if (outcome) reject(outcome.migrationError ? new MigrationError(outcome.error) : new Error(outcome.error));
      else reject(new Error(`the migration process ended without an answer (exit ${code ?? signal})`));
    });
    child.send({ databaseUrl });
  });
}

function runAsChild(): void {
  process.once('message', (message: { databaseUrl: string }) => {
    applyMigrations(message.databaseUrl, { log: (line) => process.send!({ log: line }) }).then(
      (applied) => process.send!({ applied } satisfies Outcome, () => process.exit(0)),
      (error: unknown) => {
        const outcome: Outcome = { error: error instanceof Error ? error.message : String(error), migrationError: error instanceof MigrationError };
        process.send!(outcome, () => process.exit(1));
      },
    );
  });
}

if (process.argv[2] === '--child' && process.argv[1] === fileURLToPath(import.meta.url) && process.send) runAsChild();
