// Browser tests drive Debian's Chromium through playwright-core (no browser download possible
// here). They run against the real server (startTestApp: port 0, the test database) serving the
// real production build of apps/dashboard-web. Without Chromium they are skipped; the global
// setup prints the one line that says so.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { expect } from 'vitest';
import { repoRoot } from '../../src/platform/paths.ts';
import { chromiumPath } from './chromium.ts';

export { chromiumPath };

/** The production build the server serves (the global setup builds it once per run). */
export function ensureWebBuild(): void {
  if (!existsSync(path.join(repoRoot, 'apps/dashboard-web/dist/index.html'))) throw new Error('apps/dashboard-web/dist is missing: run `npm run build:web`.');
}

export async function launchBrowser(): Promise<Browser> {
  // --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
  return chromium.launch({ executablePath: chromiumPath!, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
}

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

export interface WatchedPage {
  page: Page;
  context: BrowserContext;
  /** Console errors and page errors, CSP violations among them. */
  problems: string[];
}

/** A fresh browser context (its own cookies) with one page whose errors are collected. */
export async function openPage(browser: Browser, baseURL: string, viewport = DESKTOP): Promise<WatchedPage> {
  const context = await browser.newContext({ baseURL, viewport, acceptDownloads: true });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    // A refused API call logs "Failed to load resource … 4xx": expected in these journeys.
    if (message.type() === 'error' && !/Failed to load resource/.test(message.text())) problems.push(`console: ${message.text()}`);
  });
  return { page, context, problems };
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/**
 * axe-core in the page: no serious or critical violation. Evaluated over the DevTools protocol,
 * which the page's CSP does not govern, so the CSP stays as strict as in production.
 */
export async function expectAccessible(page: Page, label: string): Promise<void> {
  await page.evaluate(axeSource);
  // A string, not a function: it runs in the page (DOM types), this package compiles for Node.
  const violations = await page.evaluate<string[]>(`
    axe.run(document, { resultTypes: ['violations'] }).then((result) =>
      result.violations
        .filter((v) => v.impact === 'serious' || v.impact === 'critical')
        .map((v) => v.impact + ' ' + v.id + ': ' + v.help + ' at ' + v.nodes.map((n) => n.target.join(' ')).join(', ')))
  `);
  expect(violations, `axe on ${label}`).toEqual([]);
}

/**
 * Screenshots of the main pages. Written to doc/screenshots (the README shows them) when
 * UPDATE_SCREENSHOTS=1, otherwise to a temporary directory, so a test run never dirties the tree.
 */
const shotsDir = process.env.UPDATE_SCREENSHOTS === '1' ? path.join(repoRoot, 'doc/screenshots') : path.join(os.tmpdir(), 'fleet-dashboard-screenshots');
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(shotsDir, { recursive: true });
  await page.evaluate('window.scrollTo(0, 0)');
  await page.screenshot({ path: path.join(shotsDir, `${name}.png`), fullPage: false });
}

/** Axe plus, when named, a screenshot: what every visited page goes through. */
export async function checkPage(watched: WatchedPage, label: string, shot?: string): Promise<void> {
  await expectAccessible(watched.page, label);
  if (shot) await screenshot(watched.page, shot);
}

/** Log in through the form, by keyboard only (Tab and Enter). */
export async function logInWithKeyboard(page: Page, email: string, password: string, path = '/login'): Promise<void> {
  await page.goto(path);
  await page.getByLabel('Email').waitFor();
  await page.getByLabel('Email').focus();
  await page.keyboard.type(email);
  await page.keyboard.press('Tab');
  await page.keyboard.type(password);
  await page.keyboard.press('Enter');
  await page.waitForURL((url) => url.pathname !== '/login');
}

/** Picks an organization in the top bar's switcher (by its id). */
export async function selectOrganization(page: Page, orgId: string): Promise<void> {
  await page.getByTestId('org-switcher').selectOption(orgId);
}

/**
 * A TCP proxy in front of the server, to take the network away from one browser and give it
 * back (a dropped Wi-Fi, a restarting load balancer): `cut()` kills every open connection (the
 * event stream included) and refuses new ones until `restore()`.
 */
export interface CuttableProxy {
  url: string;
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

export async function startCuttableProxy(target: string): Promise<CuttableProxy> {
  const { port, hostname } = new URL(target);
  const sockets = new Set<Socket>();
  let down = false;
  const server = createServer((client) => {
    if (down) return void client.destroy();
    const upstream = connect(Number(port), hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}`,
    cut() {
      down = true;
      for (const s of sockets) s.destroy();
    },
    restore() {
      down = false;
    },
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}
