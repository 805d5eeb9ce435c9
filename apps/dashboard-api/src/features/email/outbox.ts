// The transactional outbox: a feature that needs an email writes its row with the same
// transaction client as the change it belongs to, so the email exists exactly when the change
// committed. The sender (email-sender.ts) delivers it later, with retries.
import type { Tx } from '../../platform/database.ts';

export interface EmailMessage {
  to: string;
  subject: string;
  text: string;
  html?: string;
}

export async function enqueueEmail(tx: Pick<Tx, 'emailOutbox'>, message: EmailMessage): Promise<void> {
  await tx.emailOutbox.create({ data: { to: message.to, subject: message.subject, text: message.text, html: message.html ?? null } });
}
