// Alerts over real HTTP and PostgreSQL: rules per organization, each incident announced once
// (event + email to owners and admins) and its recovery once, with two evaluators racing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { evaluateAlerts } from '../../src/features/alerts/alert-evaluator.ts';
import { connectDatabase, type Database } from '../../src/platform/database.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { createLoggedInUser, randomDeviceId } from '../support/factories.ts';
import { csrf, startFleetApp } from '../support/fleet.ts';
import { emailsTo } from '../support/mail.ts';
import { joinAs } from '../support/orgs.ts';
import type { TestApp } from '../support/test-app.ts';

let app: TestApp;
let other: Database;
let owner: Awaited<ReturnType<typeof createLoggedInUser>>;

beforeAll(async () => {
  app = await startFleetApp();
  other = connectDatabase({ url: inject('databaseUrl'), poolMax: 3, logger: createLogger({ level: 'silent' }) });
  owner = await createLoggedInUser(app.db, app.url);
});
afterAll(async () => {
  await other.close();
  await app.stop();
});

/** Two instances evaluating at once, three times over. */
const evaluateRacing = () => Promise.all([1, 2, 3].flatMap(() => [evaluateAlerts(app.db, 'http://fleet.test'), evaluateAlerts(other, 'http://fleet.test')]));

async function alertEvents(orgId: string) {
  const res = await owner.agent.get(`/api/orgs/${orgId}/events?type=alert.triggered,alert.resolved&limit=200`);
  return (res.body.items as Array<{ type: string; data: Record<string, unknown> }>).reverse();
}

async function newOrg() {
  const orgId = (await owner.agent.post('/api/orgs').set(csrf(owner)).send({ name: 'alerts' })).body.id as string;
  const admin = await joinAs(app, owner, orgId, 'admin');
  return { orgId, admin };
}

describe('alert rules', () => {
  it('lets members read rules and only owners and admins create them', async () => {
    const { orgId } = await newOrg();
    const viewer = await joinAs(app, owner, orgId, 'viewer');
    expect((await viewer.agent.post(`/api/orgs/${orgId}/alerts`).set(csrf(viewer)).send({ kind: 'dongle_offline', offlineMinutes: 5 })).status).toBe(403);
    const created = await owner.agent.post(`/api/orgs/${orgId}/alerts`).set(csrf(owner)).send({ kind: 'dongle_offline', offlineMinutes: 5 });
    expect(created.status).toBe(201);
    expect((await viewer.agent.get(`/api/orgs/${orgId}/alerts`)).body.items.map((r: { id: string }) => r.id)).toEqual([created.body.id]);
    const bad = await owner.agent.post(`/api/orgs/${orgId}/alerts`).set(csrf(owner)).send({ kind: 'command_failure_rate', failureRatePercent: 150 });
    expect(bad.status).toBe(422);
  });

  it('announces a dongle offline longer than N minutes once, and its recovery once, by event and email', async () => {
    const { orgId, admin } = await newOrg();
    await owner.agent.post(`/api/orgs/${orgId}/alerts`).set(csrf(owner)).send({ kind: 'dongle_offline', offlineMinutes: 5 });
    const deviceId = randomDeviceId();
    const { rows: [dongle] } = await app.db.pool.query(
      `INSERT INTO dongles (device_id, organization_id, owner_user_id, ownership_state, last_seen_at) VALUES ($1, $2, $3, 'CLAIMED_ACTIVE', now() - interval '10 minutes') RETURNING id::text`,
      [deviceId, orgId, owner.user.id],
    );
    await evaluateRacing();
    let events = await alertEvents(orgId);
    expect(events.map((e) => e.type)).toEqual(['alert.triggered']);
    expect(events[0]!.data).toMatchObject({ kind: 'dongle_offline', subjectId: dongle.id, deviceId });
    const rules = (await owner.agent.get(`/api/orgs/${orgId}/alerts`)).body.items;
    expect(rules[0].openIncidents).toHaveLength(1);
    expect((await emailsTo(app.db, admin.user.email.toLowerCase())).filter((m) => m.subject.startsWith('Alert'))).toHaveLength(1);

    await app.db.pool.query(`UPDATE dongles SET last_seen_at = now() WHERE id = $1::uuid`, [dongle.id]);
    await evaluateRacing();
    events = await alertEvents(orgId);
    expect(events.map((e) => e.type)).toEqual(['alert.triggered', 'alert.resolved']);
    const mail = await emailsTo(app.db, owner.user.email.toLowerCase());
    expect(mail.filter((m) => m.subject.startsWith('Alert'))).toHaveLength(1);
    expect(mail.filter((m) => m.subject.startsWith('Resolved'))).toHaveLength(1);
    expect((await owner.agent.get(`/api/orgs/${orgId}/alerts`)).body.items[0].openIncidents).toEqual([]);
  });

  it('announces a command failure rate above X % over Y minutes once, and its recovery once', async () => {
    const { orgId } = await newOrg();
    await owner.agent.post(`/api/orgs/${orgId}/alerts`).set(csrf(owner)).send({ kind: 'command_failure_rate', failureRatePercent: 50, windowMinutes: 10, minCommands: 5, email: false });
    const { rows: [dongle] } = await app.db.pool.query(
      `INSERT INTO dongles (device_id, organization_id, owner_user_id, ownership_state, last_seen_at) VALUES ($1, $2, $3, 'CLAIMED_ACTIVE', now()) RETURNING id::text`,
      [randomDeviceId(), orgId, owner.user.id],
    );
    const finish = (status: string, n: number) =>
      app.db.pool.query(
        `INSERT INTO commands (dongle_id, organization_id, created_by_user_id, type, status, expires_at, completed_at)
         SELECT $1::uuid, $2::uuid, $3::uuid, 'PING', $4::command_status, now(), now() FROM generate_series(1, $5::int)`,
        [dongle.id, orgId, owner.user.id, status, n],
      );
    await finish('FAILED', 3);
    await evaluateRacing();
    expect(await alertEvents(orgId)).toEqual([]); // 3 finished: below the minimum of 5
    await finish('TIMED_OUT', 1);
    await finish('SUCCEEDED', 2); // 4 of 6 failed: 66.7 %
    await evaluateRacing();
    let events = await alertEvents(orgId);
    expect(events.map((e) => e.type)).toEqual(['alert.triggered']);
    expect(events[0]!.data).toMatchObject({ kind: 'command_failure_rate', failed: 4, finished: 6 });
    await finish('SUCCEEDED', 10); // 4 of 16
    await evaluateRacing();
    events = await alertEvents(orgId);
    expect(events.map((e) => e.type)).toEqual(['alert.triggered', 'alert.resolved']);
  });
});
