// A comparable description of a database's public schema, read from the catalogs: one entry per
// object, keyed by kind and name, valued by its full definition as PostgreSQL prints it.
// `_prisma_migrations` (bookkeeping, only on migrated databases) is left out.
import pg from 'pg';

export type SchemaSnapshot = Map<string, string>;

const IGNORED_TABLE = '_prisma_migrations';

/** Each query returns (key, definition) rows for one kind of object. */
const CATALOG_QUERIES: Record<string, string> = {
  relation: `
    SELECT c.relname AS key, c.relkind::text AS definition
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = 'public' AND c.relkind IN ('r', 'v', 'm', 'p', 'S', 'f') AND c.relname <> $1`,
  // Column order is not compared: ALTER TABLE … ADD COLUMN appends, a fresh CREATE TABLE does not.
  column: `
    SELECT c.relname || '.' || a.attname AS key,
           format_type(a.atttypid, a.atttypmod)
             || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE ' NULL' END
             || COALESCE(' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid), '')
             || CASE WHEN a.attidentity::text <> '' THEN ' IDENTITY ' || a.attidentity::text ELSE '' END
             || CASE WHEN a.attgenerated::text <> '' THEN ' GENERATED ' || a.attgenerated::text ELSE '' END AS definition
      FROM pg_attribute a
      JOIN pg_class c ON c.oid = a.attrelid
      JOIN pg_namespace n ON n.oid = c.relnamespace
      LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
     WHERE n.nspname = 'public' AND c.relkind IN ('r', 'v', 'm', 'p', 'f') AND c.relname <> $1
       AND a.attnum > 0 AND NOT a.attisdropped`,
  index: `
    SELECT indexname AS key, indexdef AS definition
      FROM pg_indexes WHERE schemaname = 'public' AND tablename <> $1`,
  constraint: `
    SELECT cl.relname || '.' || co.conname AS key, pg_get_constraintdef(co.oid) AS definition
      FROM pg_constraint co
      JOIN pg_class cl ON cl.oid = co.conrelid
      JOIN pg_namespace n ON n.oid = co.connamespace
     WHERE n.nspname = 'public' AND cl.relname <> $1`,
  // Labels compared as a set: ALTER TYPE … ADD VALUE appends where a fresh CREATE TYPE may not,
  // and Prisma itself treats an enum's values as a set.
  enum: `
    SELECT t.typname AS key, string_agg(e.enumlabel, ', ' ORDER BY e.enumlabel) AS definition
      FROM pg_type t
      JOIN pg_enum e ON e.enumtypid = t.oid
      JOIN pg_namespace n ON n.oid = t.typnamespace
     WHERE n.nspname = 'public'
     GROUP BY t.typname`,
  trigger: `
    SELECT c.relname || '.' || t.tgname AS key, pg_get_triggerdef(t.oid) AS definition
      FROM pg_trigger t
      JOIN pg_class c ON c.oid = t.tgrelid
      JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = 'public' AND NOT t.tgisinternal`,
  // Functions that belong to an extension (pgcrypto …) are the extension's, not ours.
  function: `
    SELECT p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')' AS key,
           pg_get_functiondef(p.oid) AS definition
      FROM pg_proc p
      JOIN pg_namespace n ON n.oid = p.pronamespace
     WHERE n.nspname = 'public'
       AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')`,
  extension: `SELECT extname AS key, extversion AS definition FROM pg_extension WHERE extname <> 'plpgsql'`,
};

export async function snapshotSchema(databaseUrl: string): Promise<SchemaSnapshot> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const snapshot: SchemaSnapshot = new Map();
    for (const [kind, sql] of Object.entries(CATALOG_QUERIES)) {
      const params = sql.includes('$1') ? [IGNORED_TABLE] : [];
      const { rows } = await client.query<{ key: string; definition: string }>(sql, params);
      for (const row of rows) snapshot.set(`${kind} ${row.key}`, row.definition);
    }
    return snapshot;
  } finally {
    await client.end();
  }
}

/** Readable differences, one line per object; empty when the two schemas are equal. */
export function compareSnapshots(left: { label: string; schema: SchemaSnapshot }, right: { label: string; schema: SchemaSnapshot }): string[] {
  const keys = [...new Set([...left.schema.keys(), ...right.schema.keys()])].sort();
  const differences: string[] = [];
  for (const key of keys) {
    const a = left.schema.get(key);
    const b = right.schema.get(key);
    if (a === b) continue;
    if (a === undefined) differences.push(`${key}: only in ${right.label}: ${b}`);
    else if (b === undefined) differences.push(`${key}: only in ${left.label}: ${a}`);
    else differences.push(`${key}: differs\n    ${left.label}: ${a}\n    ${right.label}: ${b}`);
  }
  return differences;
}
