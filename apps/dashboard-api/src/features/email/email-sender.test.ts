// The outbox sender against a real SMTP server (smtp-server) started by the test: the email
// arrives with the right link; a failing server causes retries with backoff, then FAILED.
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueEmail } from '../../../test/support/factories.ts';
import { sleep } from '../../../test/support/mail.ts';
import { createScratchDatabase, type ScratchDatabase } from '../../../test/support/scratch-database.ts';
import { startTestApp, type TestApp } from '../../../test/support/test-app.ts';
import { applyMigrations } from '../../tooling/migrator.ts';
import { createLogger } from '../../platform/logger.ts';
import { sha256Hex } from '../../platform/secrets.ts';
import { retryDelayMs } from './email-sender.ts';
import { logTransport } from './transports.ts';

interface Received {
  to: string[];
  raw: string;
}

const received: Received[] = [];
/** Recipients refused with a temporary error while they are in this set. */
const refusing = new Set<string>();

const smtp = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS', 'AUTH'],
  logger: false,
  onRcptTo(address, _session, callback) {
    if (refusing.has(address.address) || address.address.startsWith('always-fail')) {
      const error = Object.assign(new Error('mailbox temporarily unavailable'), { responseCode: 451 });
      return callback(error);
    }
    callback();
  },
  onData(stream, session, callback) {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => {
      received.push({ to: session.envelope.rcptTo.map((r) => r.address), raw: Buffer.concat(chunks).toString('utf8') });
      callback();
    });
  },
});

// A database of its own: a running sender takes every due row of the outbox it polls, and the
// shared test database holds other files' emails, which they read back.
let scratch: ScratchDatabase;
let app: TestApp;
beforeAll(async () => {
  scratch = await createScratchDatabase('email');
  await applyMigrations(scratch.url);
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', () => resolve()));
  const { port } = smtp.server.address() as AddressInfo;
  app = await startTestApp({
    databaseUrl: scratch.url,
    config: { smtpUrl: `smtp://127.0.0.1:${port}`, email: { senderEnabled: true, pollIntervalMs: 100, maxAttempts: 3, retryBaseMs: 300 } },
  });
});
afterAll(async () => {
  await app.stop();
  await new Promise<void>((resolve) => smtp.close(() => resolve()));
  await scratch.drop();
});

/** Undoes quoted-printable soft breaks and escapes so the link can be read from the raw message. */
const decodeQuotedPrintable = (raw: string) => raw.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));

async function waitFor<T>(probe: () => Promise<T | undefined> | T | undefined, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

describe('the email sender over SMTP', () => {
  it('delivers the verification email with a PUBLIC_URL link whose token is the stored one, and marks it SENT', async () => {
    const email = uniqueEmail('smtp');
    expect((await app.http.post('/api/auth/signup').send({ email, password: 'a long and unusual passphrase 42' })).status).toBe(201);
    const message = await waitFor(() => received.find((m) => m.to.includes(email)), 'the SMTP message');
    const body = decodeQuotedPrintable(message.raw);
    expect(body).toMatch(/^Subject: Verify your email address/m);
    const link = /http:\/\/fleet\.test\/verify-email\?token=([A-Za-z0-9_-]{43})/.exec(body);
    expect(link).not.toBeNull();
    const user = await app.db.prisma.user.findUniqueOrThrow({ where: { email } });
    const stored = await app.db.prisma.emailVerificationToken.findFirstOrThrow({ where: { userId: user.id } });
    expect(stored.tokenHash).toBe(sha256Hex(link![1]!));
    const row = await waitFor(async () => {
      const found = await app.db.prisma.emailOutbox.findFirst({ where: { to: email, status: 'SENT' } });
      return found ?? undefined;
    }, 'the SENT status');
    expect(row).toMatchObject({ attempts: 1, lastError: null });
    expect(row.sentAt).not.toBeNull();
    // The stored copy no longer holds the live token.
    expect(row.text).not.toContain(link![1]);
    expect(row.html).not.toContain(link![1]);
    expect(row.text).toContain('/verify-email?token=[removed]');
  });

  it('retries a temporary failure with backoff and delivers when the server recovers', async () => {
    const to = uniqueEmail('flaky');
    refusing.add(to);
    const queued = await app.db.prisma.emailOutbox.create({ data: { to, subject: 'Flaky', text: 'hello' } });
    const failedOnce = await waitFor(async () => {
      const row = await app.db.prisma.emailOutbox.findUniqueOrThrow({ where: { id: queued.id } });
      return row.attempts >= 1 && row.lastError ? row : undefined;
    }, 'the first failed attempt');
    expect(failedOnce.status).toBe('PENDING');
    expect(failedOnce.lastError).toMatch(/451|temporarily/);
    expect(failedOnce.nextAttemptAt.getTime()).toBeGreaterThan(failedOnce.updatedAt.getTime());
    refusing.delete(to);
    const sent = await waitFor(async () => {
      const row = await app.db.prisma.emailOutbox.findUniqueOrThrow({ where: { id: queued.id } });
      return row.status === 'SENT' ? row : undefined;
    }, 'the retry to succeed');
    expect(sent.attempts).toBe(2);
    expect(received.filter((m) => m.to.includes(to))).toHaveLength(1);
  });

  it('gives up after the configured number of attempts: FAILED with the last error', async () => {
    const to = `always-fail-${randomBytes(4).toString('hex')}@example.test`;
    const queued = await app.db.prisma.emailOutbox.create({ data: { to, subject: 'Doomed', text: 'hello' } });
    const failed = await waitFor(async () => {
      const row = await app.db.prisma.emailOutbox.findUniqueOrThrow({ where: { id: queued.id } });
      return row.status === 'FAILED' ? row : undefined;
    }, 'FAILED');
    expect(failed.attempts).toBe(3);
    expect(failed.lastError).toMatch(/451|temporarily/);
    expect(failed.sentAt).toBeNull();
  });
});

describe('backoff', () => {
  it('doubles per attempt and is capped at one hour', () => {
    expect([1, 2, 3, 4].map((n) => retryDelayMs(n, 30_000))).toEqual([30_000, 60_000, 120_000, 240_000]);
    expect(retryDelayMs(30, 30_000)).toBe(3_600_000);
  });
});

describe('the log transport', () => {
  it('logs the link path but never the token, and prints the link only when given a printer', async () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', destination: new Writable({ write: (chunk, _e, done) => (lines.push(String(chunk)), done()) }) });
    const token = 'T0k3n-' + randomBytes(16).toString('base64url');
    const message = { id: 'e1', to: 'a@example.test', subject: 'Reset your password', text: `Open http://fleet.test/reset-password?token=${token} now` };
    await logTransport(logger).send(message);
    expect(lines.join('')).toContain('/reset-password');
    expect(lines.join('')).not.toContain(token);
    const printed: string[] = [];
    await logTransport(logger, { print: (line) => printed.push(line) }).send(message);
    expect(printed.join('')).toContain(`http://fleet.test/reset-password?token=${token}`);
    expect(lines.join('')).not.toContain(token);
  });
});
