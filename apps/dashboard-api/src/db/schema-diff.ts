// SQL between two versions of schema.prisma, computed by Prisma's own engine with no database
// and no download: how the next migration's SQL is produced (see doc/migrations.md).
import { openSchemaEngine } from './schema-engine.ts';

const noFilter = { externalTables: [], externalEnums: [] };

/** `from` undefined means an empty database. Returns the SQL script (possibly empty). */
export async function diffSchemas(from: { path: string; content: string } | undefined, to: { path: string; content: string }, databaseUrl = 'postgresql://offline/none'): Promise<string> {
  // diff between two datamodels never connects; the adapter is only required by the engine's API.
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
    engine.free();
  }
}
