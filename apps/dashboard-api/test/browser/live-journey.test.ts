// Journey 2, as far as v0.7 goes: organizations are not built yet, so the "second member" is
// the same operator in a second browser (own cookies, phone-sized): the command sent from the
// desktop appears there and turns SUCCEEDED without a reload. Also: the live indicator says
// "Reconnecting…" while the API cannot be reached, and the phone layout never scrolls sideways.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentSimulator } from '../../../agent-sim/src/index.ts';
import { DEFAULT_PASSWORD } from '../support/factories.ts';
import { activeDongle, createOperator, startFleetApp } from '../support/fleet.ts';
import type { TestApp } from '../support/test-app.ts';
import { checkPage, chromiumPath, ensureWebBuild, launchBrowser, logInWithKeyboard, openPage, PHONE } from './browser.ts';

// How much wider than the screen the page is (evaluated in the page).
const PAGE_OVERFLOW = 'document.documentElement.scrollWidth - window.innerWidth';

let app: TestApp;
let browser: Browser;
let sim: AgentSimulator | undefined;

describe.skipIf(!chromiumPath)('live updates in the browser', () => {
  beforeAll(async () => {
    ensureWebBuild();
    app = await startFleetApp();
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await sim?.stop();
    await browser?.close();
    await app?.stop();
  });

  it("a second session sees the first one's command appear and succeed live, on a phone-sized screen", { timeout: 180_000 }, async () => {
    const operator = await createOperator(app);
    const dongle = await activeDongle(app, operator);
    await operator.agent.patch(`/api/dongles/${dongle.id}`).set('X-CSRF-Token', operator.csrfToken).send({ name: 'Bench left' }).expect(200);
    const token = operator.agentAuth.replace('Bearer ', '');
    sim = new AgentSimulator({ baseUrl: app.url, token, dongles: [dongle.deviceId], pollWaitSeconds: 5, heartbeatIntervalMs: 1000 });
    sim.start();

    const desk = await openPage(browser, app.url);
    const phone = await openPage(browser, app.url, PHONE);
    // Deep links survive the login: each lands on the dongle page after logging in.
    for (const w of [desk, phone]) {
      await logInWithKeyboard(w.page, operator.user.email, DEFAULT_PASSWORD, `/dongles/${dongle.id}`);
      expect(new URL(w.page.url()).pathname).toBe(`/dongles/${dongle.id}`);
      await w.page.getByRole('heading', { name: /Bench left/ }).waitFor();
    }
    await phone.page.getByText('No command sent yet.').waitFor();

    await desk.page.getByLabel('Echo text (optional)').fill('from the desk');
    await desk.page.getByRole('button', { name: 'Send ping' }).click();
    const phoneRow = phone.page.getByTestId('command-history').locator('tr', { hasText: 'PING' });
    await phoneRow.waitFor();
    await phone.page.getByTestId('command-history').locator('tr[data-status="SUCCEEDED"]', { hasText: 'from the desk' }).waitFor();
    expect(await phone.page.getByTestId('live-indicator').textContent()).toContain('Live (polling)');

    // REBOOT asks first: Cancel sends nothing, confirming queues it.
    await desk.page.getByLabel('Command', { exact: true }).selectOption('REBOOT');
    await desk.page.getByRole('button', { name: 'Reboot…' }).click();
    await desk.page.getByRole('dialog', { name: 'Reboot this dongle?' }).getByRole('button', { name: 'Cancel' }).click();
    expect(await app.db.prisma.command.count({ where: { dongleId: dongle.id, type: 'REBOOT' } })).toBe(0);
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

    // The API unreachable: the indicator says so, and recovers by itself.
    await desk.page.route('**/api/**', (route) => route.abort('connectionrefused'));
    await desk.page.getByTestId('live-indicator').getByText('Reconnecting…').waitFor({ timeout: 30_000 });
    await desk.page.unroute('**/api/**');
    await desk.page.getByTestId('live-indicator').getByText('Live (polling)').waitFor({ timeout: 30_000 });

    // Search, filter and sort on the fleet page.
    await desk.page.goto('/');
    await desk.page.getByTestId('fleet-table').waitFor();
    await desk.page.getByLabel('Search').fill('no such dongle');
    await desk.page.getByText('No dongle matches these filters.').waitFor();
    await desk.page.getByLabel('Search').fill(dongle.deviceId.slice(0, 6));
    await desk.page.getByRole('link', { name: 'Bench left' }).waitFor();
    await desk.page.getByLabel('State').selectOption('RELEASE_PENDING');
    await desk.page.getByText('No dongle matches these filters.').waitFor();
    await desk.page.getByLabel('State').selectOption('CLAIMED_ACTIVE');
    await desk.page.getByRole('button', { name: 'Name' }).click();
    expect(await desk.page.getByRole('columnheader', { name: /Name/ }).getAttribute('aria-sort')).toBe('descending');

    expect(desk.problems.filter((p) => !/ERR_CONNECTION_REFUSED|net::/.test(p))).toEqual([]);
    expect(phone.problems).toEqual([]);
    await desk.context.close();
    await phone.context.close();
  });
});
