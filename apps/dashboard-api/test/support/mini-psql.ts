// Just enough of psql to run seed 004's scripts unchanged where the psql client is not
// installed (a machine with only Node and npm): statements ending in `;`, the `\set` and
// `\gset` meta-commands, `:'var'` / `:var` / `:"var"` interpolation and ON_ERROR_STOP. Any other
// meta-command is refused rather than guessed, so a script it cannot run faithfully fails loudly.
import pg from 'pg';

export interface ScriptResult {
  /** psql's exit status: 0 success, 3 a statement failed under ON_ERROR_STOP. */
  status: number;
  stdout: string;
  stderr: string;
}

const quoteLiteral = (value: string) => `'${value.replace(/'/g, "''")}'`;
const quoteIdent = (value: string) => `"${value.replace(/"/g, '""')}"`;

function interpolate(sql: string, variables: Map<string, string>): string {
  return sql.replace(/:(['"]?)([A-Za-z_][A-Za-z0-9_]*)\1/g, (match, quote: string, name: string) => {
    const value = variables.get(name);
    if (value === undefined) return match; // psql leaves unknown variables as written
    return quote === "'" ? quoteLiteral(value) : quote === '"' ? quoteIdent(value) : value;
  });
}

/** True when `line` ends a statement: a `;` outside quotes at its end. */
function endsStatement(buffer: string): boolean {
  let inSingle = false;
  let inDouble = false;
  let last = '';
  for (const char of buffer) {
    if (char === "'" && !inDouble) inSingle = !inSingle;
    else if (char === '"' && !inSingle) inDouble = !inDouble;
    if (!/\s/.test(char)) last = inSingle || inDouble ? '' : char;
  }
  return last === ';';
}

export async function runPsqlScript(databaseUrl: string, script: string): Promise<ScriptResult> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const variables = new Map<string, string>();
  const out: string[] = [];
  const err: string[] = [];
  let buffer = '';

  const execute = async (gset: boolean): Promise<boolean> => {
    const sql = interpolate(buffer, variables).trim();
    buffer = '';
    if (!sql) return true;
    try {
      const result = await client.query(sql);
      const rows = result.rows as Array<Record<string, unknown>>;
      if (gset) {
        if (rows.length !== 1) {
          err.push(rows.length === 0 ? 'no rows returned for \\gset' : 'more than one row returned for \\gset');
          return variables.get('ON_ERROR_STOP') !== 'on';
        }
        for (const [name, value] of Object.entries(rows[0]!)) variables.set(name, String(value));
      } else {
        out.push(rows.length ? JSON.stringify(rows) : (result.command ?? ''));
      }
      return true;
    } catch (error) {
      err.push(`ERROR:  ${(error as Error).message}`);
      return variables.get('ON_ERROR_STOP') !== 'on';
    }
  };

  try {
    for (const line of script.split('\n')) {
      const meta = /^(.*?)\\(\w+)(?:\s+(.*))?$/.exec(line);
      if (meta) {
        const [, before, command, args] = meta;
        buffer += `${before}\n`;
        if (command === 'set') {
          const [name, ...value] = (args ?? '').trim().split(/\s+/);
          variables.set(name!, value.join(' '));
          continue;
        }
        if (command === 'gset') {
          if (!(await execute(true))) return { status: 3, stdout: out.join('\n'), stderr: err.join('\n') };
          continue;
        }
        throw new Error(`mini-psql does not support \\${command}; install psql to run this script`);
      }
      buffer += `${line}\n`;
      if (endsStatement(buffer) && !(await execute(false))) return { status: 3, stdout: out.join('\n'), stderr: err.join('\n') };
    }
    if (buffer.trim() && !(await execute(false))) return { status: 3, stdout: out.join('\n'), stderr: err.join('\n') };
    return { status: 0, stdout: out.join('\n'), stderr: err.join('\n') };
  } finally {
    await client.end();
  }
}
