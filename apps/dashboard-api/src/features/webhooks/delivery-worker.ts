// Delivers webhook messages: at least once, the same `webhook-id` (the delivery id) on every
// attempt, retried on the configured schedule (default: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h,
// 10 h — eight attempts over about 28 hours), each attempt logged (status code, duration, first
// kilobyte of the response). A webhook that keeps failing (WEBHOOK_DISABLE_AFTER_FAILURES
// consecutive failed attempts spanning WEBHOOK_DISABLE_AFTER_SECONDS) is disabled, its pending
// deliveries are failed, and its organization's owners and admins get an email.
//
// Several instances may run this worker. A delivery is claimed by moving its next_attempt_at
// past the HTTP timeout (a lease) under FOR UPDATE SKIP LOCKED, so no two instances attempt it
// at once; an instance that dies mid-attempt leaves the lease to expire and another retries it
// (at-least-once, which is why receivers deduplicate on webhook-id).
import { Prisma } from '../../generated/prisma/client.ts';
import type { Config } from '../../config.ts';
import type { Database, Tx } from '../../platform/database.ts';
import { periodicWorker } from '../../platform/lifecycle.ts';
import type { Logger } from '../../platform/logger.ts';
import { recordAudit } from '../../platform/audit/audit-writer.ts';
import type { DongleTokenKeyRing } from '../dongles/token-crypto.ts';
import { enqueueEmail } from '../email/outbox.ts';
import { recordEvent } from '../../platform/events/event-writer.ts';
import { postJson, type PostResult } from './outbound-http.ts';
import { liveSecrets } from './webhook-secrets.ts';
import { signedHeaders } from './webhook-signing.ts';
import { activeUserSql } from '../auth/user-status.ts';
import { holdsSql } from '../organizations/policy.ts';

const BATCH = 20;

interface Claimed {
  id: string;
  webhookId: string;
  payload: string;
  attempts: number;
  url: string;
  organizationId: string;
  secretSealed: Uint8Array;
  previousSecretSealed: Uint8Array | null;
  previousSecretExpiresAt: Date | null;
}

const CLAIM_SQL = `
UPDATE webhook_deliveries d
   SET next_attempt_at = now() + make_interval(secs => $1::double precision), attempts = d.attempts + 1
  FROM webhooks w
 WHERE d.id IN (SELECT id FROM webhook_deliveries
                 WHERE status = 'pending' AND next_attempt_at <= now()
                 ORDER BY next_attempt_at LIMIT ${BATCH} FOR UPDATE SKIP LOCKED)
   AND w.id = d.webhook_id AND w.enabled
RETURNING d.id::text, d.webhook_id::text AS "webhookId", d.payload, d.attempts, w.url, w.organization_id::text AS "organizationId",
          w.secret_sealed AS "secretSealed", w.previous_secret_sealed AS "previousSecretSealed",
          w.previous_secret_expires_at AS "previousSecretExpiresAt"`;

export type WebhookSettings = Config['webhooks'];

export const isSuccess = (result: PostResult) => result.statusCode !== null && result.statusCode >= 200 && result.statusCode < 300;

export function createDeliveryWorker(deps: { db: Database; logger: Logger; keyRing: () => DongleTokenKeyRing; settings: WebhookSettings; publicUrl: string }) {
  const { db, logger, settings } = deps;

  async function attempt(delivery: Claimed): Promise<void> {
    let result: PostResult;
    try {
      const secrets = liveSecrets(deps.keyRing(), { ...delivery, id: delivery.webhookId });
      const headers = signedHeaders(secrets, delivery.id, delivery.payload);
      result = await postJson(delivery.url, delivery.payload, { policy: settings, timeoutMs: settings.timeoutMs, headers: { ...headers } });
    } catch (error) {
      // Not the receiver's fault (e.g. the secret's key left DONGLE_TOKEN_KEYS): logged as such.
      result = { statusCode: null, body: (error as Error).message, durationMs: 0, error: 'not_sent' };
    }
    await db.prisma.$transaction((tx) => recordAttempt(tx, delivery, result));
  }

  async function recordAttempt(tx: Tx, delivery: Claimed, result: PostResult): Promise<void> {
    const ok = isSuccess(result);
    await tx.webhookAttempt.create({
      data: {
        deliveryId: delivery.id,
        attempt: delivery.attempts,
        statusCode: result.statusCode,
        durationMs: result.durationMs,
        response: result.body,
        error: result.error ?? (ok ? null : `status ${result.statusCode}`),
      },
    });
    const retryDelay = settings.retryScheduleMs[delivery.attempts - 1];
    if (ok || retryDelay === undefined) {
      await tx.webhookDelivery.update({ where: { id: delivery.id }, data: { status: ok ? 'succeeded' : 'failed', completedAt: new Date() } });
    } else {
      await tx.webhookDelivery.update({ where: { id: delivery.id }, data: { nextAttemptAt: new Date(Date.now() + retryDelay) } });
    }
    if (ok) {
      await tx.webhook.updateMany({ where: { id: delivery.webhookId, consecutiveFailures: { gt: 0 } }, data: { consecutiveFailures: 0, failingSince: null } });
      return;
    }
    const [webhook] = await tx.$queryRaw<{ consecutive_failures: number; failing_since: Date; enabled: boolean }[]>`
      UPDATE webhooks SET consecutive_failures = consecutive_failures + 1, failing_since = COALESCE(failing_since, now())
       WHERE id = ${delivery.webhookId}::uuid
      RETURNING consecutive_failures, failing_since, enabled`;
    if (
      webhook?.enabled &&
      webhook.consecutive_failures >= settings.disableAfterFailures &&
      Date.now() - webhook.failing_since.getTime() >= settings.disableAfterMs
    ) {
      await disableWebhook(tx, delivery, webhook.consecutive_failures);
    }
  }

  async function disableWebhook(tx: Tx, delivery: Claimed, failures: number): Promise<void> {
    const reason = `${failures} consecutive failed deliveries`;
    await tx.webhook.update({ where: { id: delivery.webhookId }, data: { enabled: false, disabledReason: reason } });
    await tx.webhookDelivery.updateMany({ where: { webhookId: delivery.webhookId, status: 'pending' }, data: { status: 'failed', completedAt: new Date() } });
    await recordAudit(tx, { actor: { type: 'system' }, action: 'webhook.disable', targetType: 'webhook', targetId: delivery.webhookId, details: { reason } });
    await recordEvent(tx, { organizationId: delivery.organizationId, type: 'webhook.disabled', subjectId: delivery.webhookId, data: { reason } });
    const admins = await tx.$queryRaw<{ email: string }[]>`
      SELECT u.email FROM memberships m JOIN users u ON u.id = m.user_id
       WHERE m.organization_id = ${delivery.organizationId}::uuid AND ${Prisma.raw(holdsSql('m', 'members.manage'))} AND ${Prisma.raw(activeUserSql('u'))}`;
    const host = new URL(delivery.url).host;
    for (const { email } of admins) {
      await enqueueEmail(tx, {
        to: email,
        subject: `Webhook to ${host} was disabled`,
        text:
          `The webhook to ${host} failed ${failures} times in a row and has been disabled; pending deliveries were dropped.\n\n` +
          `Fix the receiver, then re-enable the webhook in the dashboard (${deps.publicUrl}). Its delivery log shows each attempt's status and response.\n`,
      });
    }
    logger.warn({ webhookId: delivery.webhookId, failures }, 'webhook disabled after repeated failures');
  }

  /** Claims and attempts due deliveries, batch after batch while batches come back full. */
  async function drain(signal: AbortSignal): Promise<void> {
    let full: boolean;
    do {
      const leaseSeconds = settings.timeoutMs / 1000 + 30;
      const { rows } = await db.pool.query<Claimed>(CLAIM_SQL, [leaseSeconds]);
      await Promise.all(rows.map((row) => attempt(row).catch((error) => logger.warn({ err: (error as Error).message, deliveryId: row.id }, 'webhook attempt not recorded; lease will expire and retry'))));
      full = rows.length === BATCH;
    } while (full && !signal.aborted);
  }

  // Polls every pollIntervalMs; woken at once by the event hub when an event committed.
  return periodicWorker({
    name: 'webhook-delivery',
    intervalMs: settings.pollIntervalMs,
    work: drain,
    onError: (error) => logger.warn({ err: (error as Error).message }, 'webhook delivery run failed; retrying next interval'),
  });
}
