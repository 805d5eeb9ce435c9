// SQL between two versions of schema.prisma, computed by Prisma's own engine with no database
// and no download: how the next migration's SQL is produced (see doc/migrations.md).
import { openSchemaEngine } from './schema-engine.ts';

const noFilter = { externalTables: [], externalEnums: [] };

/**
 * `from` undefined means an empty database. Returns the SQL script (possibly empty). The engine
 * insists on a reachable database at start, though a datamodel-to-datamodel diff reads nothing
 * from it.
 */
export async function diffSchemas(from: { path: string; content: string } | undefined, to: { path: string; content: string }, databaseUrl: string): Promise<string> {
  const engine = await openSchemaEngine({ databaseUrl });
  try {
    const result = await engine.diff({
      from: from ? { tag: 'schemaDatamodel', files: [from] } : { tag: 'empty' },
      to: { tag: 'schemaDatamodel', files: [to] },
      script: true,
      exitCode: null,
      filters: noFilter,
    });
    return result.stdout ?? '';
  } finally {
    await engine.close();
  }
}
