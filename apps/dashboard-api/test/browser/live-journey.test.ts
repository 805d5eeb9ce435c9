// Journey 2: a second member of the organization sees the first one's command appear and
// succeed live, through the organization's event stream (no polling while the stream is up),
// on a phone-sized screen. The first member's network drops (a proxy cuts every connection):
// the live indicator says "Reconnecting…", and once it is back the command the other member
// sent meanwhile is there. Also: REBOOT's confirmation, SEND_FRAME validation, the phone layout,
// fleet search/filter/sort.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentSimulator } from '../../../agent-sim/src/index.ts';
import { DEFAULT_PASSWORD } from '../support/factories.ts';
import { sleep } from '../support/mail.ts';
import { csrf, startFleetApp } from '../support/fleet.ts';
import { createTeam } from '../support/orgs.ts';
import type { TestApp } from '../support/test-app.ts';
import { checkPage, chromiumPath, ensureWebBuild, launchBrowser, logInWithKeyboard, openPage, PHONE, selectOrganization, startCuttableProxy, type CuttableProxy } from './browser.ts';

// How much wider than the screen the page is (evaluated in the page).
const PAGE_OVERFLOW = 'document.documentElement.scrollWidth - window.innerWidth';

let app: TestApp;
let browser: Browser;
let sim: AgentSimulator | undefined;
let proxy: CuttableProxy | undefined;

describe.skipIf(!chromiumPath)('live updates in the browser', () => {
  beforeAll(async () => {
    ensureWebBuild();
    app = await startFleetApp();
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await sim?.stop();
    await proxy?.close();
    await browser?.close();
    await app?.stop();
  });

  it("a second member sees the first one's command appear and succeed live; a dropped stream reconnects and catches up", { timeout: 240_000 }, async () => {
    // An organization with an owner and an operator, its agent (agent-sim) and one claimed dongle.
    const team = await createTeam(app, 'Bench team');
    const { owner, operator, orgId } = team;
    sim = new AgentSimulator({ baseUrl: app.url, token: team.agentAuth.replace('Bearer ', ''), dongles: 1, pollWaitSeconds: 5, heartbeatIntervalMs: 1000 });
    await sim.heartbeat();
    const deviceId = sim.dongles[0]!.deviceId;
    const claimed = await owner.agent.post(`/api/orgs/${orgId}/dongles/claim`).set(csrf(owner)).send({ deviceId });
    expect(claimed.status, JSON.stringify(claimed.body)).toBe(202);
    const dongleId = claimed.body.id as string;
    await sim.heartbeat(); // token exchange and acknowledgement
    await owner.agent.patch(`/api/orgs/${orgId}/dongles/${dongleId}`).set(csrf(owner)).send({ name: 'Bench left' }).expect(200);
    sim.start();

    // The owner at a desk (through a proxy that can drop the network), the operator on a phone.
    proxy = await startCuttableProxy(app.url);
    const desk = await openPage(browser, proxy.url);
    const phone = await openPage(browser, app.url, PHONE);
    for (const [w, member] of [[desk, owner], [phone, operator]] as const) {
      await logInWithKeyboard(w.page, member.user.email, DEFAULT_PASSWORD);
      await selectOrganization(w.page, orgId);
      await w.page.getByRole('link', { name: 'Bench left' }).click();
      await w.page.getByRole('heading', { name: /Bench left/ }).waitFor();
      await w.page.getByTestId('live-indicator').getByText('Live', { exact: true }).waitFor();
    }
    expect(new URL(phone.page.url()).pathname).toBe(`/dongles/${dongleId}`);
    await phone.page.getByText('No command sent yet.').waitFor();
    // While the stream is up nothing polls: a quiet moment makes no request for the history.
    const historyRequests: string[] = [];
    phone.page.on('request', (r) => new URL(r.url()).pathname.endsWith(`/dongles/${dongleId}/commands`) && historyRequests.push(r.url()));
    await sleep(6_000);
    expect(historyRequests, 'no polling while the stream is live').toEqual([]);

    await desk.page.getByLabel('Echo text (optional)').fill('from the desk');
    await desk.page.getByRole('button', { name: 'Send ping' }).click();
    const phoneRow = phone.page.getByTestId('command-history').locator('tr', { hasText: 'PING' });
    await phoneRow.waitFor();
    await phone.page.getByTestId('command-history').locator('tr[data-status="SUCCEEDED"]', { hasText: 'from the desk' }).waitFor();
    expect(historyRequests.length, 'the history was refetched because of the events').toBeGreaterThan(0);

    // REBOOT asks first: Cancel sends nothing, confirming queues it.
    await desk.page.getByLabel('Command', { exact: true }).selectOption('REBOOT');
    await desk.page.getByRole('button', { name: 'Reboot…' }).click();
    await desk.page.getByRole('dialog', { name: 'Reboot this dongle?' }).getByRole('button', { name: 'Cancel' }).click();
    expect(await app.db.prisma.command.count({ where: { dongleId, type: 'REBOOT' } })).toBe(0);
    await desk.page.getByRole('button', { name: 'Reboot…' }).click();
    await desk.page.getByRole('dialog', { name: 'Reboot this dongle?' }).getByRole('button', { name: 'Reboot now' }).click();
    await phone.page.getByTestId('command-history').locator('tr', { hasText: 'REBOOT' }).waitFor();

    // SEND_FRAME: a malformed id is refused in the form, before any request.
    await desk.page.getByLabel('Command', { exact: true }).selectOption('SEND_FRAME');
    await desk.page.getByLabel('CAN id (hex)').fill('FFFF');
    await desk.page.getByLabel('Data (hex bytes)').fill('01 02 03');
    await desk.page.getByRole('button', { name: 'Send frame' }).click();
    await desk.page.getByText(/at most 7FF for a standard/).waitFor();
    await desk.page.getByLabel('Extended id (29-bit)').check();
    await desk.page.getByRole('button', { name: 'Send frame' }).click();
    await phone.page.getByTestId('command-history').locator('tr[data-status="SUCCEEDED"]', { hasText: 'SEND_FRAME' }).waitFor();

    // The phone layout: nothing wider than the screen; tables scroll inside their own region.
    const overflow = await phone.page.evaluate<number>(PAGE_OVERFLOW);
    expect(overflow).toBeLessThanOrEqual(0);
    await checkPage(phone, 'dongle detail (phone)', 'phone-dongle');
    await phone.page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Fleet' }).click();
    await phone.page.getByTestId('fleet-table').waitFor();
    expect(await phone.page.evaluate<number>(PAGE_OVERFLOW)).toBeLessThanOrEqual(0);
    await checkPage(phone, 'fleet (phone)', 'phone-fleet');

    // The desk loses the network: the indicator says so at once. The operator sends a ping
    // meanwhile; when the network is back the stream reconnects and the desk has caught up.
    proxy.cut();
    await desk.page.getByTestId('live-indicator').getByText('Reconnecting…').waitFor({ timeout: 30_000 });
    await phone.page.getByRole('link', { name: 'Bench left' }).click();
    await phone.page.getByLabel('Echo text (optional)').fill('while you were away');
    await phone.page.getByRole('button', { name: 'Send ping' }).click();
    await phone.page.getByTestId('command-history').locator('tr[data-status="SUCCEEDED"]', { hasText: 'while you were away' }).waitFor();
    proxy.restore();
    await desk.page.getByTestId('live-indicator').getByText('Live', { exact: true }).waitFor({ timeout: 30_000 });
    await desk.page.getByTestId('command-history').locator('tr[data-status="SUCCEEDED"]', { hasText: 'while you were away' }).waitFor();

    // Search, filter and sort on the fleet page.
    await desk.page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Fleet' }).click();
    await desk.page.getByTestId('fleet-table').waitFor();
    await desk.page.getByLabel('Search').fill('no such dongle');
    await desk.page.getByText('No dongle matches these filters.').waitFor();
    await desk.page.getByLabel('Search').fill(deviceId.slice(0, 6));
    await desk.page.getByRole('link', { name: 'Bench left' }).waitFor();
    await desk.page.getByLabel('State').selectOption('RELEASE_PENDING');
    await desk.page.getByText('No dongle matches these filters.').waitFor();
    await desk.page.getByLabel('State').selectOption('CLAIMED_ACTIVE');
    await desk.page.getByRole('button', { name: 'Name' }).click();
    expect(await desk.page.getByRole('columnheader', { name: /Name/ }).getAttribute('aria-sort')).toBe('descending');

    expect(desk.problems.filter((p) => !/ERR_CONNECTION|ERR_EMPTY_RESPONSE|net::/.test(p))).toEqual([]);
    expect(phone.problems).toEqual([]);
    await desk.context.close();
    await phone.context.close();
  });
});
