// What every maintenance command shares: output that tests can capture, the configured
// database (embedded when DATABASE_URL is unset) opened and closed around the work, and
// running as the process entry with the command's exit code.
import { pathToFileURL } from 'node:url';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { loadConfig } from '../config.ts';
import { provisionDatabase } from '../tooling/provision.ts';
import { connectDatabase, type Database } from '../platform/database.ts';
import { createLogger } from '../platform/logger.ts';

export interface CliIo {
  out(line: string): void;
  err(line: string): void;
}

export const consoleIo: CliIo = { out: (line) => console.log(line), err: (line) => console.error(line) };

/** Runs `work` on `given`, or on the configured database, which it opens and closes itself. */
export async function withCliDatabase<T>(given: Database | undefined, work: (db: Database) => Promise<T>): Promise<T> {
  if (given) return work(given);
  const logger = createLogger({ level: 'warn' });
  const provisioned = await provisionDatabase(loadConfig(), logger);
  const db = connectDatabase({ url: provisioned.url, poolMax: 2, logger });
  try {
    return await work(db);
  } finally {
    await db.close();
    await provisioned.stop();
  }
}

/** Calls `main(argv)` when `moduleUrl` is the file node was started with, and exits with its code. */
export function runAsMain(moduleUrl: string, main: (argv: string[]) => Promise<number>): void {
  if (!process.argv[1] || moduleUrl !== pathToFileURL(process.argv[1]).href) return;
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exit(1);
    },
  );
}

/**
 * parseArgs with the commands' shared conventions: a bad flag prints the error and the usage
 * (exit 2); `--help` prints the usage (exit 0). Returns the values, or the exit code to stop with.
 */
export function parseCliArgs<const O extends ParseArgsOptionsConfig>(
  argv: string[],
  options: O,
  usage: string,
  io: CliIo,
): { values: ParsedValues<O> } | { exitCode: number } {
  let values: ParsedValues<O> & { help?: boolean };
  try {
    ({ values } = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean' } } }) as { values: ParsedValues<O> & { help?: boolean } });
  } catch (error) {
    io.err(`${(error as Error).message}\n${usage}`);
    return { exitCode: 2 };
  }
  if (values.help) {
    io.out(usage);
    return { exitCode: 0 };
  }
  return { values };
}

type ParseArgsOptionsConfig = NonNullable<ParseArgsConfig['options']>;
type ParsedValues<O extends ParseArgsOptionsConfig> = ReturnType<typeof parseArgs<{ options: O }>>['values'];
