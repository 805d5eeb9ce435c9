// Journeys 3 and 4 in a real Chromium: an admin suspends a user whose dashboard is open (their
// next action lands on the login page, and after reactivation the login brings them back where
// they were); the audit log filtered, paged (keyset) and exported as an admin. Also the pages no
// other journey visits pass axe: account, forgot/reset password, users, audit, force-release, 404.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertAuditRows } from '../support/audit-rows.ts';
import { createUser, DEFAULT_PASSWORD } from '../support/factories.ts';
import { tokenFromLink, waitForEmails } from '../support/mail.ts';
import { activeDongle, createOperator, startFleetApp } from '../support/fleet.ts';
import type { TestApp } from '../support/test-app.ts';
import { checkPage, chromiumPath, ensureWebBuild, launchBrowser, logInWithKeyboard, openPage } from './browser.ts';

let app: TestApp;
let browser: Browser;

describe.skipIf(!chromiumPath)('administration in the browser', () => {
  beforeAll(async () => {
    ensureWebBuild();
    app = await startFleetApp();
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  it('an admin suspends a user whose dashboard is open: their next action lands on the login page', { timeout: 180_000 }, async () => {
    const operator = await createOperator(app);
    const admin = await createUser(app.db, { role: 'admin' });

    const user = await openPage(browser, app.url);
    await logInWithKeyboard(user.page, operator.user.email, DEFAULT_PASSWORD, '/agents');
    expect(new URL(user.page.url()).pathname, 'the login returned to the page asked for').toBe('/agents');
    await user.page.getByRole('heading', { name: "The organization's agents" }).waitFor();

    const desk = await openPage(browser, app.url);
    await logInWithKeyboard(desk.page, admin.email, DEFAULT_PASSWORD);
    await desk.page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Users' }).click();
    await desk.page.getByLabel('Email contains').fill(operator.user.email);
    await desk.page.getByRole('button', { name: 'Search' }).click();
    const row = desk.page.locator(`tr[data-email="${operator.user.email}"]`);
    await row.getByRole('button', { name: 'Suspend' }).click();
    await desk.page.getByRole('dialog').getByRole('button', { name: 'Suspend' }).click();
    await row.getByText('suspended').waitFor();
    await checkPage(desk, 'admin users', 'admin-users');

    // The user's next action (or the next live refresh, whichever comes first) ends on login.
    await user.page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Groups' }).click().catch(() => undefined);
    await user.page.waitForURL((url) => url.pathname === '/login');
    await user.page.getByText('Your session has ended.').waitFor();
    await checkPage(user, 'login after the session ended');
    await user.page.getByLabel('Email').fill(operator.user.email);
    await user.page.getByLabel('Password').fill(DEFAULT_PASSWORD);
    await user.page.getByRole('button', { name: 'Log in' }).click();
    await user.page.getByRole('alert').getByText(/request id/).waitFor(); // suspended: refused, with the request id

    // Reactivated, the user logs in and is taken back to where they were.
    await row.getByRole('button', { name: 'Reactivate' }).click();
    await row.getByText('active', { exact: true }).waitFor();
    await user.page.getByRole('button', { name: 'Log in' }).click();
    await user.page.waitForURL((url) => url.pathname !== '/login');
    expect(['/agents', '/groups']).toContain(new URL(user.page.url()).pathname);

    expect(user.problems).toEqual([]);
    expect(desk.problems).toEqual([]);
    await user.context.close();
    await desk.context.close();
  });

  it('an admin filters the audit log, pages through it and exports what matches', { timeout: 180_000 }, async () => {
    const admin = await createUser(app.db, { role: 'admin' });
    const actorId = randomUUID();
    // 60 rows of one actor: more than one page (50), so "Load older entries" has work to do.
    await insertAuditRows(
      app.db.pool,
      Array.from({ length: 60 }, (_, i) => ({ actorId, action: i % 2 ? 'test.browser_even' : 'test.browser_odd', targetType: 'widget', targetId: `w-${i}`, createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString() })),
    );

    const desk = await openPage(browser, app.url);
    await logInWithKeyboard(desk.page, admin.email, DEFAULT_PASSWORD, '/admin/audit');
    await desk.page.getByLabel('Actor id (user or agent)').fill(actorId);
    await desk.page.getByRole('button', { name: 'Apply filters' }).click();
    const rows = desk.page.getByTestId('audit-table').locator('tbody tr');
    await expect.poll(() => rows.count()).toBe(50);
    await desk.page.getByRole('button', { name: 'Load older entries' }).click();
    await expect.poll(() => rows.count()).toBe(60);
    expect(await desk.page.getByRole('button', { name: 'Load older entries' }).count()).toBe(0);

    await desk.page.getByLabel('Action').fill('test.browser_even');
    await desk.page.getByRole('button', { name: 'Apply filters' }).click();
    await expect.poll(() => rows.count()).toBe(30);
    await checkPage(desk, 'audit log', 'audit-log');

    const [download] = await Promise.all([desk.page.waitForEvent('download'), desk.page.getByRole('link', { name: 'CSV' }).click()]);
    const csv = readFileSync((await download.path())!, 'utf8').trim().split(/\r?\n/);
    expect(csv).toHaveLength(31); // header + the 30 filtered rows
    expect(csv.slice(1).every((line) => line.includes('test.browser_even') && line.includes(actorId))).toBe(true);
    expect(desk.problems).toEqual([]);
    await desk.context.close();
  });

  it('password reset through the emailed link, account, force-release and not-found pages work and pass axe', { timeout: 180_000 }, async () => {
    const admin = await createUser(app.db, { role: 'admin' });
    const owner = await createOperator(app);
    const dongle = await activeDongle(app, owner);

    const visitor = await openPage(browser, app.url);
    await visitor.page.goto('/forgot-password');
    await checkPage(visitor, 'forgot password');
    await visitor.page.getByLabel('Email').fill(owner.user.email);
    await visitor.page.getByRole('button', { name: 'Email me a reset link' }).click();
    await visitor.page.getByRole('status').first().waitFor();
    await visitor.page.goto('/reset-password?token=not-a-real-token');
    await checkPage(visitor, 'reset password');
    await visitor.page.getByLabel('New password').fill('a brand new long password');
    await visitor.page.getByRole('button', { name: 'Set the new password' }).click();
    await visitor.page.getByRole('alert').getByText(/request id/).waitFor();
    // The link the email carries (templates.ts) opens the page that sets the new password.
    const [resetEmail] = await waitForEmails(app.db, owner.user.email);
    const { link } = tokenFromLink(resetEmail!, '/reset-password');
    const { pathname, search } = new URL(link);
    await visitor.page.goto(pathname + search);
    await visitor.page.getByLabel('New password').fill('a brand new long password');
    await visitor.page.getByRole('button', { name: 'Set the new password' }).click();
    await visitor.page.getByText('Your password was changed.').waitFor();
    await visitor.page.getByLabel('Email').fill(owner.user.email);
    await visitor.page.getByLabel('Password').fill('a brand new long password');
    await visitor.page.getByRole('button', { name: 'Log in' }).click();
    await visitor.page.getByRole('heading', { name: 'Fleet' }).waitFor();
    expect(visitor.problems).toEqual([]);
    await visitor.context.close();

    const desk = await openPage(browser, app.url);
    await logInWithKeyboard(desk.page, admin.email, DEFAULT_PASSWORD, '/account');
    await desk.page.getByText('This session').waitFor();
    await checkPage(desk, 'account', 'account');

    await desk.page.goto('/admin/dongles');
    await desk.page.getByLabel('Dongle id (uuid)').fill(dongle.id);
    await desk.page.getByRole('button', { name: 'Force-release…' }).click();
    await desk.page.getByRole('dialog').getByRole('button', { name: 'Force-release' }).click();
    await desk.page.getByText(`Dongle ${dongle.deviceId} is now unclaimed.`).waitFor();
    await checkPage(desk, 'force-release');
    expect((await app.db.prisma.dongle.findUniqueOrThrow({ where: { id: dongle.id } })).ownershipState).toBe('UNCLAIMED');

    await desk.page.goto('/no/such/page');
    await desk.page.getByRole('heading', { name: 'Page not found' }).waitFor();
    await checkPage(desk, 'not found');
    expect(desk.problems).toEqual([]);
    await desk.context.close();
  });
});
