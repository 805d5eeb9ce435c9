// Reading the email outbox in tests: test apps do not send (EMAIL_SENDER_ENABLED=false), so the
// rows stay PENDING and a test reads its own email (by its unique address) from the table.
import type { Database } from '../../src/platform/database.ts';

export interface OutboxEmail {
  id: string;
  to: string;
  subject: string;
  text: string;
  html: string | null;
  status: string;
  createdAt: Date;
}

/** Every email queued for `to`, oldest first. */
export async function emailsTo(db: Database, to: string): Promise<OutboxEmail[]> {
  return db.prisma.emailOutbox.findMany({ where: { to }, orderBy: { createdAt: 'asc' } });
}

/** Waits (polling) until `count` emails exist for `to`; some are queued after the answer. */
export async function waitForEmails(db: Database, to: string, count = 1, timeoutMs = 10_000): Promise<OutboxEmail[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const emails = await emailsTo(db, to);
    if (emails.length >= count) return emails;
    if (Date.now() > deadline) throw new Error(`expected ${count} email(s) to ${to}, found ${emails.length}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The token of the first link in the email whose path is `path` (e.g. "/verify-email"). */
export function tokenFromLink(email: Pick<OutboxEmail, 'text'>, path: string): { link: string; token: string } {
  const link = /https?:\/\/\S+/.exec(email.text)?.[0];
  if (!link) throw new Error('no link in the email');
  const url = new URL(link);
  if (url.pathname !== path) throw new Error(`link path is ${url.pathname}, expected ${path}`);
  return { link, token: url.searchParams.get('token') ?? '' };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
