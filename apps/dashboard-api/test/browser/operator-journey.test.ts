// Journey 1 in a real Chromium against the real server and database, with apps/agent-sim as the
// agent: sign up → verify (token from the outbox) → log in → enroll an agent → claim from the
// discovered list → set a CAN config (the server's 422 shown on the field first) → send PING and
// see SUCCEEDED appear without reloading → group two dongles → release. Every page passes axe.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentSimulator } from '../../../agent-sim/src/index.ts';
import { DEFAULT_PASSWORD, uniqueEmail } from '../support/factories.ts';
import { tokenFromLink, waitForEmails } from '../support/mail.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { checkPage, chromiumPath, ensureWebBuild, launchBrowser, openPage } from './browser.ts';

let app: TestApp;
let browser: Browser;
let sim: AgentSimulator | undefined;

describe.skipIf(!chromiumPath)('operator journey in the browser', () => {
  beforeAll(async () => {
    ensureWebBuild();
    app = await startTestApp();
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await sim?.stop();
    await browser?.close();
    await app?.stop();
  });

  it('signs up, verifies, logs in, enrolls an agent, claims, configures, pings, groups and releases', { timeout: 240_000 }, async () => {
    const watched = await openPage(browser, app.url);
    const { page } = watched;
    const email = uniqueEmail('journey');

    // Sign up; the verification link from the outbox opens the verify page.
    await page.goto('/signup');
    await checkPage(watched, 'sign up', 'signup');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(DEFAULT_PASSWORD);
    await page.getByRole('button', { name: 'Sign up' }).click();
    await page.getByRole('heading', { name: 'Check your email' }).waitFor();
    const [verification] = await waitForEmails(app.db, email);
    const { token } = tokenFromLink(verification!, '/verify-email');
    await page.goto(`/verify-email?token=${encodeURIComponent(token)}`);
    await page.getByText('Your email address is verified.').waitFor();
    await checkPage(watched, 'verify email');

    // Log in; an empty fleet says what to do next.
    await page.getByRole('link', { name: 'Log in' }).click();
    await checkPage(watched, 'log in', 'login');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(DEFAULT_PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Fleet' }).waitFor();
    await page.getByText('You have no dongles yet.').waitFor();
    await checkPage(watched, 'empty fleet');

    // Enroll: the page shows a code and the agent-sim command line carrying it.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Agents' }).click();
    await page.getByRole('button', { name: 'Create an enrollment code' }).click();
    const code = (await page.getByTestId('enrollment-code').textContent())!.trim();
    expect(await page.getByTestId('agent-command').textContent()).toContain(`--url ${app.url} --code ${code}`);
    sim = new AgentSimulator({ baseUrl: app.url, dongles: 2, name: 'bench-pc', pollWaitSeconds: 5, heartbeatIntervalMs: 500 });
    await sim.enroll(code);
    sim.start();
    await page.getByRole('row', { name: /bench-pc.*Online/ }).waitFor();
    await checkPage(watched, 'agents', 'agents');

    // Claim both dongles from the discovered list; each becomes Active once the agent has
    // exchanged its token.
    const [first, second] = sim.dongles.map((d) => d.deviceId);
    for (const deviceId of [first!, second!]) {
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Claim' }).click();
      await page.getByRole('button', { name: `Claim ${deviceId}` }).waitFor();
      if (deviceId === first) await checkPage(watched, 'claim', 'claim');
      await page.getByRole('button', { name: `Claim ${deviceId}` }).click();
      await page.waitForURL(/\/dongles\/[0-9a-f-]{36}$/);
      await page.getByRole('heading', { level: 1 }).getByText('Active').waitFor();
    }
    await page.getByRole('link', { name: '← Fleet' }).click();
    await page.getByRole('link', { name: 'Unnamed' }).first().waitFor();
    expect(await page.getByTestId('fleet-table').locator('tbody tr').count()).toBe(2);
    await page.getByRole('row', { name: new RegExp(first!) }).getByRole('link').click();
    const dongleUrl = page.url();
    await page.getByRole('button', { name: 'Rename' }).click();
    await page.getByLabel('Name (empty clears it)').fill('Bench left');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: /Bench left/ }).waitFor();

    // CAN configuration: an impossible sample point comes back as the server's 422 on its field;
    // a good one is saved, queued and applied by the agent.
    const form = page.getByRole('form', { name: 'CAN configuration' });
    await form.getByLabel('Nominal bitrate (bit/s)').fill('500000');
    await form.getByLabel('Nominal sample point (%)').fill('95');
    await form.getByRole('button', { name: 'Save and apply' }).click();
    const sampleField = form.getByLabel('Nominal sample point (%)');
    await expect.poll(() => sampleField.getAttribute('aria-invalid')).toBe('true');
    expect(await form.getByRole('alert').textContent()).toMatch(/request id/);
    await form.getByLabel('Nominal sample point (%)').fill('87.5');
    expect(await page.getByTestId('timing-nominal').textContent()).toMatch(/500,000 bit\/s, sample point 87\.5 %/);
    await form.getByRole('button', { name: 'Save and apply' }).click();
    await page.getByText('Saved as version 1').waitFor();
    await page.getByText('v1 desired, v1 applied').waitFor();
    await checkPage(watched, 'dongle detail', 'dongle');

    // PING: the history turns SUCCEEDED by itself (live refetch), no reload.
    const navigations: string[] = [];
    page.on('framenavigated', (frame) => frame === page.mainFrame() && navigations.push(frame.url()));
    await page.getByRole('button', { name: 'Send ping' }).click();
    await page.getByTestId('command-history').locator('tr[data-status="SUCCEEDED"]', { hasText: 'PING' }).waitFor();
    expect(navigations, 'the page did not reload').toEqual([]);
    expect(page.url()).toBe(dongleUrl);

    // Group the two dongles.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Groups' }).click();
    await page.getByLabel('Group name (optional)').fill('Test bench pair');
    await page.getByRole('button', { name: 'Create group' }).click();
    await page.getByRole('heading', { name: /Test bench pair/ }).waitFor();
    await checkPage(watched, 'groups', 'groups');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Fleet' }).click();
    await page.getByRole('row', { name: /Bench left.*Test bench pair/ }).waitFor();
    await checkPage(watched, 'fleet', 'fleet');

    // Release the first dongle: it leaves its group, and once the agent confirms the wipe it is
    // no longer ours (gone from the fleet, offered again on the claim page).
    await page.goto(dongleUrl);
    await page.getByRole('button', { name: 'Release…' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Release' }).click();
    await page.waitForURL((url) => url.pathname === '/');
    await expect.poll(() => page.getByTestId('fleet-table').locator('tbody tr').count(), { timeout: 20_000 }).toBe(1);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Groups' }).click();
    await page.getByText('No group yet.').waitFor();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Fleet' }).click();
    await page.getByTestId('fleet-table').waitFor();
    await checkPage(watched, 'fleet after the release');

    expect(watched.problems, 'no page errors, no CSP violations').toEqual([]);
    await watched.context.close();
  });
});
