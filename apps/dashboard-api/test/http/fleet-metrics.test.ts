// /metrics after a journey through the real API: an agent enrolls, reports a dongle, the
// operator claims it and sends a command, the agent's waiting long-poll receives it and the
// agent reports success. Counters are process-wide (one app per test file), so their deltas
// are exact; database gauges count the shared test database, so they are checked as lower bounds.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiClient, unwrap } from '@fleet/api-client';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { notifierOf } from '../support/command-fixtures.ts';
import { randomDeviceId } from '../support/factories.ts';
import { claim, createOperator, csrf, randomKey, type Operator } from '../support/fleet.ts';
import { startTestApp, testConfig, type TestApp } from '../support/test-app.ts';

let app: TestApp;
let operator: Operator;
beforeAll(async () => {
  app = await startTestApp({
    config: { dongleTokenKeys: `1:${randomKey()}`, trustProxyHops: 1, rateLimits: { ...testConfig().rateLimits, enrollIp: { limit: 2, windowSeconds: 60 } } },
    deps: { fleetMetricsCacheMs: 0 },
  });
  operator = await createOperator(app);
});
afterAll(() => app.stop());

/** The value of one series in a Prometheus text exposition (0 when absent). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const present = (match[2] ?? '').slice(1, -1).split(',').filter(Boolean);
    if (wanted.every((label) => present.includes(label)) && present.length === wanted.length) return Number(match[3]);
  }
  return 0;
}

const scrape = async () => {
  const res = await app.http.get('/metrics');
  expect(res.status).toBe(200);
  return res.text;
};

describe('fleet metrics', () => {
  it('move with enrollment, claim, command delivery and result', async () => {
    const before = await scrape();
    const ip = `198.51.100.${Math.floor(Math.random() * 250) + 1}`;

    // Enroll through the typed client, as a real agent would.
    const code = await operator.agent.post('/api/agents/enrollment-codes').set(csrf(operator)).expect(201);
    let token: string | undefined;
    const agentApi = createApiClient(app.url, { token: () => token, headers: { 'x-forwarded-for': ip } });
    token = (await unwrap(agentApi.POST('/api/agent/enroll', { body: { code: code.body.code, name: 'metrics-pc', hostname: 'metrics-pc', os: 'linux', version: '1.0.0' } }))).token;
    const deviceId = randomDeviceId();
    await unwrap(agentApi.POST('/api/agent/heartbeat', { body: { version: '1.0.0', dongles: [{ deviceId }] } }));
    const claimed = await claim(app, operator, deviceId);
    expect(claimed.status).toBe(202);
    await unwrap(agentApi.POST('/api/agent/dongles/{deviceId}/token', { params: { path: { deviceId } } }));
    const dongle = await unwrap(agentApi.POST('/api/agent/dongles/{deviceId}/token/ack', { params: { path: { deviceId } } }));
    expect(dongle.state).toBe('CLAIMED_ACTIVE');

    // A second enrollment from the same address with a spent code: over the enroll-ip limit of 2.
    const refused = await agentApi.POST('/api/agent/enroll', { body: { code: code.body.code, name: 'again', hostname: 'again', os: 'linux', version: '1.0.0' } });
    const again = refused.response.status === 429 ? refused : await agentApi.POST('/api/agent/enroll', { body: { code: code.body.code, name: 'again', hostname: 'again', os: 'linux', version: '1.0.0' } });
    expect(again.response.status).toBe(429);

    // A verification email waits in the outbox (the sender is off in tests).
    const signup = await app.http.post('/api/auth/signup').send({ email: `metrics-${randomUUID()}@example.test`, password: 'a long enough passphrase 42' });
    expect(signup.status, JSON.stringify(signup.body)).toBe(201);

    const polling = unwrap(agentApi.GET('/api/agent/commands', { params: { query: { wait: 30 } } }));
    await expect.poll(async () => sample(await scrape(), 'fleet_agent_long_polls_waiting'), { timeout: 10_000, interval: 50 }).toBe(1);
    const during = await scrape();

    const sent = await operator.agent.post(`/api/dongles/${claimed.body.id}/commands`).set(csrf(operator)).send({ type: 'PING', payload: { echo: 'm' } });
    expect(sent.status, JSON.stringify(sent.body)).toBe(201);
    const [command] = (await polling).commands;
    expect(command?.id).toBe(sent.body.id);
    await unwrap(agentApi.POST('/api/agent/commands/{id}/result', { params: { path: { id: command!.id } }, body: { status: 'SUCCEEDED', result: { pong: true } } }));
    // A second command, cancelled before any agent polls.
    const reboot = await operator.agent.post(`/api/dongles/${claimed.body.id}/commands`).set(csrf(operator)).send({ type: 'REBOOT' });
    expect(reboot.status, JSON.stringify(reboot.body)).toBe(201);
    await operator.agent.post(`/api/commands/${reboot.body.id}/cancel`).set(csrf(operator)).expect(200);
    // A third, left past its 1-second TTL: the cancel finds it overdue and marks it EXPIRED
    // (the sweeper's transition, counted the same way).
    const status = await operator.agent.post(`/api/dongles/${claimed.body.id}/commands`).set(csrf(operator)).send({ type: 'GET_STATUS', ttlSeconds: 1 });
    expect(status.status, JSON.stringify(status.body)).toBe(201);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    await operator.agent.post(`/api/commands/${status.body.id}/cancel`).set(csrf(operator)).expect(409);
    const after = await scrape();

    const delta = (name: string, labels: Record<string, string> = {}) => sample(after, name, labels) - sample(before, name, labels);
    expect(delta('fleet_commands_created_total', { type: 'PING' })).toBe(1);
    expect(delta('fleet_commands_delivered_total', { type: 'PING' })).toBe(1);
    expect(delta('fleet_commands_finished_total', { type: 'PING', status: 'SUCCEEDED' })).toBe(1);
    expect(delta('fleet_commands_created_total', { type: 'REBOOT' })).toBe(1);
    expect(delta('fleet_commands_delivered_total', { type: 'REBOOT' })).toBe(0);
    expect(delta('fleet_commands_finished_total', { type: 'REBOOT', status: 'CANCELLED' })).toBe(1);
    expect(delta('fleet_commands_finished_total', { type: 'GET_STATUS', status: 'EXPIRED' })).toBe(1);
    expect(delta('fleet_rate_limit_rejections_total', { rule: 'enroll-ip' })).toBe(1);

    expect(sample(during, 'fleet_agent_long_polls_waiting')).toBe(1);
    expect(sample(after, 'fleet_agent_long_polls_waiting')).toBe(0);
    expect(sample(during, 'fleet_agents_online')).toBeGreaterThanOrEqual(1);
    expect(sample(during, 'fleet_dongles_online')).toBeGreaterThanOrEqual(1);
    expect(sample(during, 'fleet_email_outbox_backlog')).toBeGreaterThanOrEqual(1);
    expect(after).toMatch(/^fleet_commands_queue_depth\{status="QUEUED"\} \d+$/m);
    expect(after).toMatch(/^fleet_email_outbox_failed \d+$/m);
    expect(sample(after, 'fleet_command_listener_up')).toBe(1);
    expect(sample(after, 'fleet_db_pool_connections')).toBeGreaterThanOrEqual(1);
    expect(after).toMatch(/^fleet_db_pool_idle_connections \d+$/m);
    expect(after).toMatch(/^fleet_db_pool_waiting_requests \d+$/m);
    expect(after).toMatch(/^nodejs_eventloop_lag_seconds \S+$/m);
  });

  it('counts a lost LISTEN connection and shows it up again once reconnected', async () => {
    const notifier = notifierOf(app);
    await expect.poll(() => notifier.backendPid, { timeout: 10_000 }).toBeDefined();
    const before = sample(await scrape(), 'fleet_command_listener_disconnects_total');
    await app.db.pool.query('SELECT pg_terminate_backend($1)', [notifier.backendPid]);
    await expect.poll(async () => sample(await scrape(), 'fleet_command_listener_disconnects_total'), { timeout: 10_000, interval: 50 }).toBe(before + 1);
    await expect.poll(async () => sample(await scrape(), 'fleet_command_listener_up'), { timeout: 10_000, interval: 50 }).toBe(1);
  });

  it('has every series the shipped Grafana dashboard (doc/grafana-fleet.json) queries', async () => {
    const dashboard = JSON.parse(readFileSync(new URL('../../../../doc/grafana-fleet.json', import.meta.url), 'utf8')) as { panels: { targets?: { expr: string }[] }[] };
    const exprs = dashboard.panels.flatMap((panel) => panel.targets ?? []).map((target) => target.expr);
    const names = new Set(exprs.flatMap((expr) => expr.match(/\b(?:fleet|nodejs|process|http)_[a-z0-9_]+/g) ?? []));
    expect(names.size).toBeGreaterThan(10);
    const text = await scrape();
    // Declared (a labelled counter has no series before its first event).
    for (const name of names) expect(text, name).toMatch(new RegExp(`^# TYPE ${name.replace(/_bucket$/, '')} `, 'm'));
  });
});
