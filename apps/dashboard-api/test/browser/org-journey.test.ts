// Organizations in the browser: an owner creates an organization and invites a colleague; the
// colleague opens the emailed link (outbox token), logs in, lands back on it and joins; the
// owner's members page shows them without a reload (member.added over the stream); a change of
// role reaches the colleague's navigation live; the colleague creates an API key, sees it once
// with a copy button, and it works as a bearer token. Every page passes axe.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLoggedInUser, DEFAULT_PASSWORD } from '../support/factories.ts';
import { tokenFromLink, waitForEmails } from '../support/mail.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { checkPage, chromiumPath, ensureWebBuild, launchBrowser, logInWithKeyboard, openPage } from './browser.ts';

let app: TestApp;
let browser: Browser;

describe.skipIf(!chromiumPath)('organizations in the browser', () => {
  beforeAll(async () => {
    ensureWebBuild();
    app = await startTestApp();
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  it('creates an organization, invites by email, the invitee accepts through the link, roles change live, an API key is shown once', { timeout: 240_000 }, async () => {
    const owner = await createLoggedInUser(app.db, app.url);
    const colleague = await createLoggedInUser(app.db, app.url);
    const other = await createLoggedInUser(app.db, app.url);
    const desk = await openPage(browser, app.url);
    const { page } = desk;

    // The owner creates an organization; it becomes the selected one.
    await logInWithKeyboard(page, owner.user.email, DEFAULT_PASSWORD);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Members' }).click();
    await page.getByText('This is your personal organization').waitFor();
    await page.getByRole('link', { name: 'New organization' }).click();
    await checkPage(desk, 'new organization');
    await page.getByLabel('Name').fill('Test bench team');
    await page.getByRole('button', { name: 'Create organization' }).click();
    await page.getByRole('heading', { name: 'Members of Test bench team' }).waitFor();
    expect(await page.getByTestId('org-switcher').locator('option:checked').textContent()).toContain('Test bench team');
    const orgId = await page.getByTestId('org-switcher').inputValue();

    // Invitations: one to the colleague (resent: only the newest link works), one revoked.
    await page.getByLabel('Email address').fill(colleague.user.email);
    await page.getByLabel('Role', { exact: true }).selectOption('operator');
    await page.getByRole('button', { name: 'Send invitation' }).click();
    await page.getByText(`Invitation sent to ${colleague.user.email}.`).waitFor();
    await page.getByRole('button', { name: `Resend the invitation to ${colleague.user.email}` }).click();
    const emails = await waitForEmails(app.db, colleague.user.email, 2);
    const staleToken = tokenFromLink(emails[0]!, '/invitations/accept').token;
    const { link, token } = tokenFromLink(emails[1]!, '/invitations/accept');
    expect(token).not.toBe(staleToken);
    await page.getByLabel('Email address').fill(other.user.email);
    await page.getByRole('button', { name: 'Send invitation' }).click();
    await page.getByRole('row', { name: new RegExp(other.user.email) }).getByRole('button', { name: 'Revoke' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Revoke invitation' }).click();
    await page.getByRole('row', { name: new RegExp(`${other.user.email}.*revoked`) }).waitFor();
    await checkPage(desk, 'members and invitations', 'members');

    // The colleague follows the emailed link: to the login, then back to the invitation.
    const phone = await openPage(browser, app.url);
    const path = new URL(link).pathname + new URL(link).search;
    await phone.page.goto(`/invitations/accept?token=${encodeURIComponent(staleToken)}`);
    await phone.page.getByLabel('Email').waitFor();
    expect(new URL(phone.page.url()).pathname).toBe('/login');
    await logInWithKeyboard(phone.page, colleague.user.email, DEFAULT_PASSWORD, `/login?next=${encodeURIComponent(`/invitations/accept?token=${encodeURIComponent(staleToken)}`)}`);
    expect(new URL(phone.page.url()).pathname).toBe('/invitations/accept');
    await phone.page.getByRole('button', { name: 'Accept the invitation' }).click();
    await phone.page.getByText('This invitation cannot be used').waitFor(); // the resend killed the first link
    await phone.page.goto(path);
    await phone.page.getByRole('heading', { name: 'Join an organization' }).waitFor();
    await checkPage(phone, 'accept invitation');
    await phone.page.getByRole('button', { name: 'Accept the invitation' }).click();
    await phone.page.getByRole('heading', { name: 'Fleet' }).waitFor();
    expect(await phone.page.getByTestId('org-switcher').locator('option:checked').textContent()).toContain('Test bench team');
    await phone.page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Claim' }).waitFor();

    // The owner's members page shows the colleague without a reload; the owner makes them a
    // viewer, and the colleague's navigation loses "Claim" by itself.
    const row = page.getByTestId('members-table').getByRole('row', { name: new RegExp(colleague.user.email) });
    await row.waitFor();
    await row.getByLabel(`Role of ${colleague.user.email}`).selectOption('viewer');
    await phone.page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Claim' }).waitFor({ state: 'detached' });
    expect(await app.db.prisma.membership.findFirst({ where: { organizationId: orgId, userId: colleague.user.id } })).toMatchObject({ role: 'viewer' });

    // The colleague's members page: no management controls for a viewer.
    await phone.page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Members' }).click();
    await phone.page.getByText('You are a viewer here.').waitFor();
    expect(await phone.page.getByRole('button', { name: 'Remove' }).count()).toBe(0);
    expect(await phone.page.getByRole('heading', { name: 'Invitations' }).count()).toBe(0);

    // An API key: read scope only for a viewer; shown once, with a copy button; it works.
    await phone.page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'API keys' }).click();
    // The page renders its form once the organization and my role have loaded: wait, don't sample.
    await expect.poll(() => phone.page.getByLabel('Scope').locator('option').allTextContents(), { timeout: 15_000 }).toEqual(['Read (viewer)']);
    await phone.page.getByLabel('Name').fill('ci-readonly');
    await phone.page.getByLabel('Expires in (days)').fill('30');
    await phone.page.getByRole('button', { name: 'Create key' }).click();
    const secret = (await phone.page.getByTestId('api-key-secret').textContent())!.trim();
    expect(secret).toMatch(/^fk_/);
    await phone.page.getByTestId('new-api-key').getByRole('button', { name: 'Copy key' }).waitFor();
    await checkPage(phone, 'API keys', 'api-keys');
    const used = await app.http.get(`/api/orgs/${orgId}/dongles`).set('Authorization', `Bearer ${secret}`);
    expect(used.status).toBe(200);
    await phone.page.reload();
    await phone.page.getByRole('row', { name: /ci-readonly.*active/ }).waitFor();
    expect(await phone.page.content(), 'the key is never shown again').not.toContain(secret);
    await phone.page.getByRole('row', { name: /ci-readonly/ }).getByText(/ from \S+$/).waitFor(); // "now from …" or "5 seconds ago from …"
    // The owner (an admin) sees the colleague's key in the list.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'API keys' }).click();
    await page.getByRole('row', { name: new RegExp(`ci-readonly.*${colleague.user.email}`) }).waitFor();

    expect(desk.problems).toEqual([]);
    expect(phone.problems).toEqual([]);
    await desk.context.close();
    await phone.context.close();
  });
});
