// The background sender of the email outbox. Each round claims a batch of due PENDING rows with
// FOR UPDATE SKIP LOCKED (so several instances never take the same row) and, in that same
// statement, counts the attempt and pushes next_attempt_at out by a lease: the row lock is not
// held while talking to the SMTP server, and a row whose sender died becomes due again when the
// lease runs out. A sent row becomes SENT; a failure is retried with exponential backoff until
// `maxAttempts`, then FAILED.
import type { Database } from '../../platform/database.ts';
import type { BackgroundWorker } from '../../platform/lifecycle.ts';
import type { Logger } from '../../platform/logger.ts';
import { fleetCounters } from '../../platform/metrics.ts';
import type { EmailTransport } from './transports.ts';

export interface EmailSenderOptions {
  pollIntervalMs: number;
  maxAttempts: number;
  /** Delay before the first retry; doubled for each further attempt, capped at one hour. */
  retryBaseMs: number;
  batchSize?: number;
  leaseMs?: number;
}

interface ClaimedEmail {
  id: string;
  to: string;
  subject: string;
  text: string;
  html: string | null;
  attempts: number;
}

const CLAIM_SQL = `
  UPDATE email_outbox e
     SET attempts = e.attempts + 1, next_attempt_at = now() + make_interval(secs => $2 / 1000.0), updated_at = now()
    FROM (SELECT id FROM email_outbox
           WHERE status = 'PENDING' AND next_attempt_at <= now()
           ORDER BY next_attempt_at
           LIMIT $1
           FOR UPDATE SKIP LOCKED) due
   WHERE e.id = due.id
  RETURNING e.id, e."to", e.subject, e.text, e.html, e.attempts`;

// A queued email has to hold its link, token included, until it is sent. Once it is SENT or
// FAILED the token is cut out of the stored copy, so the outbox does not keep live tokens
// (which are otherwise stored only as hashes).
const SCRUB_TOKENS = `text = regexp_replace(text, 'token=[A-Za-z0-9_%-]+', 'token=[removed]', 'g'),
  html = regexp_replace(html, 'token=[A-Za-z0-9_%-]+', 'token=[removed]', 'g')`;

export const retryDelayMs = (attempts: number, baseMs: number) => Math.min(baseMs * 2 ** Math.max(0, attempts - 1), 3_600_000);

export interface EmailSender extends BackgroundWorker {
  /** One round: claims and sends what is due; returns how many rows it handled. */
  runOnce(): Promise<number>;
}

export function createEmailSender(db: Pick<Database, 'pool'>, transport: EmailTransport, logger: Logger, options: EmailSenderOptions): EmailSender {
  const batchSize = options.batchSize ?? 20;
  const leaseMs = options.leaseMs ?? 5 * 60_000;
  let stopped = true;
  let loop: Promise<void> | undefined;
  let wake: (() => void) | undefined;

  async function deliver(email: ClaimedEmail): Promise<void> {
    try {
      await transport.send({ id: email.id, to: email.to, subject: email.subject, text: email.text, html: email.html ?? undefined });
      await db.pool.query(`UPDATE email_outbox SET status = 'SENT', sent_at = now(), last_error = NULL, ${SCRUB_TOKENS}, updated_at = now() WHERE id = $1`, [email.id]);
    } catch (error) {
      const message = (error instanceof Error ? error.message : String(error)).slice(0, 500);
      const giveUp = email.attempts >= options.maxAttempts;
      await db.pool.query(
        giveUp
          ? `UPDATE email_outbox SET status = 'FAILED', last_error = $2, ${SCRUB_TOKENS}, updated_at = now() WHERE id = $1`
          : `UPDATE email_outbox SET next_attempt_at = now() + make_interval(secs => $3 / 1000.0), last_error = $2, updated_at = now() WHERE id = $1`,
        giveUp ? [email.id, message] : [email.id, message, retryDelayMs(email.attempts, options.retryBaseMs)],
      );
      logger.warn({ emailId: email.id, attempts: email.attempts, gaveUp: giveUp, err: message }, 'email delivery failed');
      fleetCounters.emailFailures.inc({ outcome: giveUp ? 'gave_up' : 'retry' });
    }
  }

  async function runOnce(): Promise<number> {
    const { rows } = await db.pool.query<ClaimedEmail>(CLAIM_SQL, [batchSize, leaseMs]);
    for (const email of rows) await deliver(email);
    return rows.length;
  }

  async function run(): Promise<void> {
    while (!stopped) {
      let handled = 0;
      try {
        handled = await runOnce();
      } catch (error) {
        logger.warn({ err: (error as Error).message }, 'email sender round failed');
      }
      if (stopped) break;
      if (handled === batchSize) continue; // more may be due
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, options.pollIntervalMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = undefined;
    }
  }

  return {
    name: `email-sender(${transport.name})`,
    runOnce,
    start() {
      if (!stopped) return;
      stopped = false;
      loop = run();
    },
    async stop() {
      stopped = true;
      wake?.();
      await loop;
      transport.close?.();
    },
  };
}
