// The raw-SQL additions in prisma/migrations: the parts of the schema that schema.prisma cannot
// express (CHECKs, triggers, functions). Each sits between two marker lines,
//   -- raw-sql:begin <name>
//   -- raw-sql:end
// so the drift test can rebuild "schema.prisma + these blocks" and compare it with what the
// migrations produce, and doc/database.md can list them by name.
import type { LocalMigration } from '../platform/migration-status.ts';

export interface RawSqlBlock {
  name: string;
  /** The migration folder the block is in. */
  migration: string;
  /** The SQL between the markers (marker lines excluded). */
  sql: string;
}

const BEGIN = /^--\s*raw-sql:begin\s+(\S+)\s*$/;
const END = /^--\s*raw-sql:end\s*$/;

/** Every marked block, in migration order then file order. Unbalanced markers throw. */
export function extractRawSqlBlocks(migrations: LocalMigration[]): RawSqlBlock[] {
  return migrations.flatMap((migration) => blocksOf(migration));
}

function blocksOf(migration: LocalMigration): RawSqlBlock[] {
  const blocks: RawSqlBlock[] = [];
  let open: { name: string; lines: string[] } | undefined;
  migration.sql.split(/\r?\n/).forEach((line, index) => {
    const where = `${migration.name}/migration.sql:${index + 1}`;
    const begin = BEGIN.exec(line.trim());
    if (begin) {
      if (open) throw new Error(`${where}: raw-sql:begin ${begin[1]} inside the still open block ${open.name}`);
      open = { name: begin[1]!, lines: [] };
    } else if (END.test(line.trim())) {
      if (!open) throw new Error(`${where}: raw-sql:end without a raw-sql:begin`);
      blocks.push({ name: open.name, migration: migration.name, sql: `${open.lines.join('\n')}\n` });
      open = undefined;
    } else {
      open?.lines.push(line);
    }
  });
  if (open) throw new Error(`${migration.name}/migration.sql: raw-sql:begin ${open.name} is never closed`);
  return blocks;
}
