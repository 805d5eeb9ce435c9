// Where emails go. One interface, two transports:
// - log (the development default): writes one pino line per email with its subject and the
//   link's path, never the token; in development only, it also prints the full link to stdout
//   (not through pino, so it never reaches log shipping) so a developer can click it;
// - smtp: nodemailer over SMTP_URL.
import nodemailer from 'nodemailer';
import type { Config } from '../../config.ts';
import type { Logger } from '../../platform/logger.ts';
import type { EmailMessage } from './outbox.ts';

export interface EmailTransport {
  readonly name: 'log' | 'smtp';
  send(message: EmailMessage & { id: string }): Promise<void>;
  close?(): void;
}

const firstLink = (text: string) => /https?:\/\/\S+/.exec(text)?.[0];

export function logTransport(logger: Logger, options: { print?: (line: string) => void } = {}): EmailTransport {
  return {
    name: 'log',
    async send(message) {
      const link = firstLink(message.text);
      // The path says which email it was (/verify-email, /reset-password); the query holds the token.
      const linkPath = link ? new URL(link).pathname : undefined;
      logger.info({ emailId: message.id, subject: message.subject, linkPath }, 'email delivered to the log transport');
      if (options.print && link) options.print(`\n  Email to ${message.to}: ${message.subject}\n  ${link}\n\n`);
    },
  };
}

export function smtpTransport(options: { url: string; from: string }): EmailTransport {
  // Short timeouts: a hung server must fail the attempt (and be retried), not stall the sender.
  const transporter = nodemailer.createTransport({ url: options.url, connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000 });
  return {
    name: 'smtp',
    async send(message) {
      await transporter.sendMail({ from: options.from, to: message.to, subject: message.subject, text: message.text, html: message.html });
    },
    close: () => transporter.close(),
  };
}

/**
 * SMTP when SMTP_URL is set; otherwise the log transport, which prints links to stdout only in
 * development (in production and tests a link would put a live token in the output).
 */
export function emailTransportFor(config: Pick<Config, 'smtpUrl' | 'mailFrom' | 'env'>, logger: Logger): EmailTransport {
  if (config.smtpUrl) return smtpTransport({ url: config.smtpUrl, from: config.mailFrom });
  if (config.env === 'production') logger.warn('SMTP_URL is not set: emails are only logged (without their links), never delivered');
  return logTransport(logger, { print: config.env === 'development' ? (line) => process.stdout.write(line) : undefined });
}
