// Command creation (POST /api/dongles/:id/commands) with a cookie session and CSRF token.
// App vs. the bare baseline running the same statements (session, user, then BEGIN, dongle
// check, INSERT, audit INSERT, NOTIFY, COMMIT). No target in the issue; reported for the record.
import pg from 'pg';
import type { BenchContext } from './run.ts';
import { compare, login, pct, perConnection, seedLoginUser, setupLine, startServers, table, type Contender } from './commands-bench-kit.ts';

export default async function commandCreateBench(ctx: BenchContext): Promise<string> {
  const pool = new pg.Pool({ connectionString: ctx.databaseUrl, max: 2 });
  const operator = await seedLoginUser(pool, 'create', 10, 0);
  const servers = await startServers(ctx.databaseUrl);
  try {
    const session = await login(servers.appUrl, operator.email, operator.password);
    const dongle = perConnection(operator.dongleIds);
    const body = JSON.stringify({ type: 'SEND_FRAME', payload: { canId: 0x123, data: '0102030405060708' } });
    let keys = 0;
    const create = (url: string, prefix: string, withKey: boolean): Contender['options'] => ({
      url,
      requests: [
        {
          method: 'POST',
          setupRequest: (req, context) => ({
            ...req,
            path: `${prefix}/dongles/${dongle(context)}/commands`,
            headers: {
              cookie: session.cookie,
              'x-csrf-token': session.csrfToken,
              'content-type': 'application/json',
              ...(withKey ? { 'idempotency-key': `bench-${process.pid}-${keys++}` } : {}),
            },
            body,
          }),
        },
      ],
    });
    const [baseline, app, keyed] = await compare(
      [
        { label: 'baseline: node:http + pg, same SQL', options: create(servers.baselineUrl, '', false) },
        { label: 'POST /api/dongles/:id/commands', options: create(servers.appUrl, '/api', false) },
        { label: 'the same with a fresh Idempotency-Key each', options: create(servers.appUrl, '/api', true) },
      ],
      ctx.log,
    );
    // Creation leaves many QUEUED commands behind; later benches must not find them.
    await pool.query(`DELETE FROM commands WHERE dongle_id = ANY($1::uuid[])`, [operator.dongleIds]);
    return [
      '## Command creation',
      '',
      setupLine(),
      'One operator, ten CLAIMED_ACTIVE dongles spread over the connections, a SEND_FRAME each time.',
      '',
      ...table([baseline!, app!, keyed!]),
      '',
      `- App / baseline: ${pct(app!.rps / baseline!.rps)}; with an Idempotency-Key (two more statements: claim the key, store the response): ${pct(keyed!.rps / baseline!.rps)}.`,
      '- App per request: session store read, user lookup, then one Prisma interactive transaction (dongle check, INSERT … RETURNING, audit row, pg_notify). It stays on Prisma because `enqueueCommand(tx)` is shared with the CAN-config PUT; creation is not a hot path.',
      '',
    ].join('\n');
  } finally {
    await servers.stop();
    await pool.end();
  }
}
