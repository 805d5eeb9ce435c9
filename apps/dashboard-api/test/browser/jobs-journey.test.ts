// Fleet jobs in the browser (issue 15's pages) over agent-sim dongles: tags set on the dongle
// page and matched by the fleet's selector filter (a malformed selector shows the server's
// 422), a firmware image uploaded, a staged firmware job created from the form by selector that
// reaches COMPLETED live, and a slow job picked by hand that is paused, resumed and cancelled.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_PASSWORD } from '../support/factories.ts';
import { createFleet, type Fleet } from '../support/fleet-jobs.ts';
import { createOperator, startFleetApp } from '../support/fleet.ts';
import type { TestApp } from '../support/test-app.ts';
import { checkPage, chromiumPath, ensureWebBuild, launchBrowser, logInWithKeyboard, openPage } from './browser.ts';

let app: TestApp;
let browser: Browser;
let fleet: Fleet | undefined;

describe.skipIf(!chromiumPath)('fleet jobs in the browser', () => {
  beforeAll(async () => {
    ensureWebBuild();
    app = await startFleetApp();
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await fleet?.stop();
    await browser?.close();
    await app?.stop();
  });

  it('tags, selector filter, firmware upload, a staged firmware job to COMPLETED, pause/resume/cancel', { timeout: 300_000 }, async () => {
    const operator = await createOperator(app);
    fleet = await createFleet(app, operator, { agents: 1, perAgent: 3, tags: { env: 'lab' } });
    const [retiredDeviceId] = [...fleet.ids.keys()];
    const watched = await openPage(browser, app.url);
    const { page } = watched;
    const nav = () => page.getByRole('navigation', { name: 'Main' });
    await logInWithKeyboard(page, operator.user.email, DEFAULT_PASSWORD);
    await page.getByTestId('fleet-table').locator('tbody tr').nth(2).waitFor();

    // Tags on the dongle page.
    await page.getByRole('row', { name: new RegExp(retiredDeviceId!) }).getByRole('link').click();
    await page.getByTestId('dongle-tags').getByText('env=lab').waitFor();
    await page.getByLabel('Tag key').fill('retired');
    await page.getByLabel('Tag value').fill('yes');
    await page.getByRole('button', { name: 'Set tag' }).click();
    await page.getByTestId('dongle-tags').getByText('retired=yes').waitFor();

    // The fleet filtered by selector; a malformed one is the server's 422, on the field.
    await nav().getByRole('link', { name: 'Fleet' }).click();
    await page.getByLabel('Tag selector').fill('env=lab,!retired=x');
    await page.getByRole('button', { name: 'Apply selector' }).click();
    await expect.poll(() => page.getByLabel('Tag selector').getAttribute('aria-invalid')).toBe('true');
    await page.getByLabel('Tag selector').fill('env=lab,!retired');
    await page.getByRole('button', { name: 'Apply selector' }).click();
    await expect.poll(() => page.getByTestId('fleet-table').locator('tbody tr').count()).toBe(2);
    expect(await page.getByTestId('fleet-table').textContent()).not.toContain(retiredDeviceId);
    await checkPage(watched, 'fleet filtered by a selector');

    // A firmware image for the simulated hardware (stm32g4/rev-b).
    await nav().getByRole('link', { name: 'Firmware' }).click();
    await page.getByLabel('Image file').setInputFiles({ name: 'fw-1.5.0.bin', mimeType: 'application/octet-stream', buffer: Buffer.alloc(20_000, 7) });
    await page.getByLabel('Version (semver)').fill('1.5.0');
    await page.getByLabel('Chip family').fill('stm32g4');
    await page.getByLabel('Board revision').fill('rev-b');
    await page.getByRole('button', { name: 'Upload' }).click();
    await page.getByText('Uploaded 1.5.0 for stm32g4/rev-b.').waitFor();
    await page.getByTestId('firmware-table').getByRole('row', { name: /1\.5\.0.*19\.5 KiB.*unsigned/ }).waitFor();
    await checkPage(watched, 'firmware', 'firmware');

    // A staged firmware job by selector, with an abort rule: it completes, live.
    await nav().getByRole('link', { name: 'Jobs' }).click();
    await page.getByText('No job yet.').waitFor();
    await page.getByRole('link', { name: 'New job' }).click();
    await page.getByLabel('Name (optional)').fill('Firmware 1.5.0 to the lab');
    await page.getByLabel('Tag selector').fill('env=lab,!retired');
    await page.getByTestId('selector-matches').getByText('2 dongles match now').waitFor();
    await page.getByLabel('Operation', { exact: true }).selectOption('FIRMWARE_UPDATE');
    await page.getByLabel('Firmware image').selectOption({ label: '1.5.0 for stm32g4/rev-b' });
    await page.getByLabel('At most per minute').fill('600');
    await page.getByLabel('Stages (cumulative %, optional)').fill('50, 100');
    await page.getByLabel('Abort when too many fail').check();
    await checkPage(watched, 'new job', 'job-new');
    await page.getByRole('button', { name: 'Create job' }).click();
    await page.waitForURL(/\/jobs\/[0-9a-f-]{36}$/);
    await page.getByRole('heading', { level: 1 }).getByText('Completed').waitFor({ timeout: 120_000 });
    await page.getByTestId('job-progress').locator('[data-state="SUCCEEDED"]').getByText('2').waitFor();
    expect(await page.getByTestId('executions-table').locator('tbody tr[data-status="SUCCEEDED"]').count()).toBe(2);
    await checkPage(watched, 'job detail', 'job');
    const versions = await app.db.prisma.dongle.findMany({ where: { deviceId: { in: [...fleet.ids.keys()] } }, select: { deviceId: true, firmwareVersion: true } });
    expect(versions.filter((d) => d.firmwareVersion === '1.5.0').map((d) => d.deviceId).sort()).toEqual([...fleet.ids.keys()].filter((id) => id !== retiredDeviceId).sort());

    // A slow job (one a minute) over dongles picked by hand: pause, resume, cancel.
    await page.getByRole('link', { name: '← Jobs' }).click();
    await page.getByRole('link', { name: 'New job' }).click();
    await page.getByLabel('Name (optional)').fill('Slow ping');
    await page.getByLabel('Choose dongles by').selectOption('ids');
    for (const deviceId of fleet.ids.keys()) await page.getByLabel(new RegExp(deviceId)).check();
    await page.getByLabel('At most per minute').fill('1');
    await page.getByRole('button', { name: 'Create job' }).click();
    await page.getByRole('heading', { level: 1, name: /Slow ping/ }).waitFor();
    // Started: its three executions are listed (handed out one a minute at most).
    await page.getByRole('heading', { level: 1 }).getByText('In progress').waitFor();
    await expect.poll(() => page.getByTestId('executions-table').locator('tbody tr').count()).toBe(3);
    await page.getByRole('button', { name: 'Pause' }).click();
    await page.getByRole('heading', { level: 1 }).getByText('Paused').waitFor();
    await page.getByRole('button', { name: 'Resume' }).click();
    await page.getByRole('heading', { level: 1 }).getByText('In progress').waitFor();
    await page.getByRole('button', { name: 'Cancel job…' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Cancel job' }).click();
    await page.getByRole('heading', { level: 1 }).getByText('Cancelled').waitFor();
    // Whatever was not handed out (or still queued) is cancelled; nothing is left pending.
    await expect.poll(() => page.getByTestId('executions-table').locator('tbody tr[data-status="PENDING"]').count()).toBe(0);
    expect(await page.getByTestId('executions-table').locator('tbody tr[data-status="CANCELLED"]').count()).toBeGreaterThanOrEqual(2);

    // The list shows both with their outcome.
    await page.getByRole('link', { name: '← Jobs' }).click();
    await page.getByTestId('jobs-table').locator('tr[data-status="COMPLETED"]', { hasText: 'Firmware 1.5.0 to the lab' }).waitFor();
    await page.getByTestId('jobs-table').locator('tr[data-status="CANCELLED"]', { hasText: 'Slow ping' }).waitFor();
    await checkPage(watched, 'jobs', 'jobs');

    expect(watched.problems).toEqual([]);
    await watched.context.close();
  });
});
