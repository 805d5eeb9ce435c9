// The dashboard's dongle list (GET /api/dongles, first page of 50) with a cookie session.
// App vs. the bare baseline running the same statements (session row, user, the page of ids,
// the rows and their agent, group and CAN-config lookups). Target: ≥ 70 % of the baseline.
import pg from 'pg';
import type { BenchContext } from './run.ts';
import { compare, login, pct, perConnection, seedFleet, seedLoginUser, setupLine, startServers, table, verdict, type Contender } from './commands-bench-kit.ts';

export default async function dongleListBench(ctx: BenchContext): Promise<string> {
  const pool = new pg.Pool({ connectionString: ctx.databaseUrl, max: 2 });
  // The operator has 60 dongles (so the first page is full); other operators share the tables.
  const operator = await seedLoginUser(pool, 'list', 60, 5);
  await seedFleet(pool, { users: 20, donglesPerUser: 10, historyPerDongle: 5, label: 'list-others' });
  const servers = await startServers(ctx.databaseUrl);
  try {
    // A few sessions of the same operator, one per connection, as several dashboard tabs would be.
    const sessions = [];
    for (let i = 0; i < 3; i++) sessions.push(await login(servers.appUrl, operator.email, operator.password));
    const cookie = perConnection(sessions.map((s) => s.cookie));
    const list = (url: string, path: string): Contender['options'] => ({
      url,
      requests: [{ method: 'GET', path, setupRequest: (req, context) => ({ ...req, headers: { cookie: cookie(context) } }) }],
    });
    const [baseline, app] = await compare(
      [
        { label: 'baseline: node:http + pg, same SQL', options: list(servers.baselineUrl, '/dongles') },
        { label: 'GET /api/dongles (cookie session)', options: list(servers.appUrl, '/api/dongles') },
      ],
      ctx.log,
    );
    const ratio = app!.rps / baseline!.rps;
    return [
      '## Dashboard dongle list',
      '',
      setupLine(),
      'One operator with 60 dongles (first page = 50 items) among 20 other operators; three sessions of that operator spread over the connections.',
      '',
      ...table([baseline!, app!]),
      '',
      `- App / baseline: ${pct(ratio)} (target ≥ 70 %): ${verdict(ratio, 0.7)}.`,
      '- Per request, app and baseline alike: the signed cookie, the session store read, the user lookup, the organization membership (the personal organization, `MEMBERSHIP`), then one keyset query joining agents, group members and CAN configs (`DONGLE_LIST`; both from the features\' `*.sql.ts`, imported by the baseline).',
      '- The app adds express-session, Express routing, zod validation, the presenter and the response headers; the list was five Prisma round-trips (42 % of baseline) until it became one query.',
      '',
    ].join('\n');
  } finally {
    await servers.stop();
    await pool.end();
  }
}
