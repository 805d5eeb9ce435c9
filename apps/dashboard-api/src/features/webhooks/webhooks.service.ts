// Webhooks of an organization: create (secret shown once), list, update, delete, rotate the
// secret (the old one keeps signing through an overlap window), queue a test message, read the
// delivery log. Each change is audited in its transaction; audit rows carry the URL's host and
// never a secret.
import type { Config } from '../../config.ts';
import type { Webhook } from '../../generated/prisma/client.ts';
import type { Database, Tx } from '../../platform/database.ts';
import { notFound, unprocessable } from '../../platform/errors.ts';
import { recordAudit, type RequestContext } from '../../platform/audit/audit-writer.ts';
import type { DongleTokenKeyRing } from '../dongles/token-crypto.ts';
import type { OrgScope } from '../organizations/org-scope.ts';
import { resolvePinnedAddress } from './ssrf-guard.ts';
import { sealSecret } from './webhook-secrets.ts';
import { generateWebhookSecret } from './webhook-signing.ts';
import type { CreateWebhookBody, UpdateWebhookBody } from './webhooks.schemas.ts';

export const presentWebhook = (w: Webhook) => ({
  id: w.id,
  url: w.url,
  description: w.description,
  eventTypes: w.eventTypes,
  enabled: w.enabled,
  disabledReason: w.disabledReason,
  consecutiveFailures: w.consecutiveFailures,
  previousSecretExpiresAt: w.previousSecretExpiresAt && w.previousSecretExpiresAt > new Date() ? w.previousSecretExpiresAt.toISOString() : null,
  createdAt: w.createdAt.toISOString(),
});

const host = (url: string) => new URL(url).host;

export function createWebhooksService(deps: { db: Database; keyRing: () => DongleTokenKeyRing; settings: Config['webhooks'] }) {
  const { db, settings } = deps;
  const actor = (scope: OrgScope) => ({ type: 'user' as const, id: scope.userId });

  /** Refuses, at save time, URLs whose host is refused now (the check repeats at each delivery). */
  async function checkReachable(url: string): Promise<void> {
    try {
      await resolvePinnedAddress(new URL(url), settings);
    } catch (error) {
      throw unprocessable('The request is not valid.', [{ path: 'body.url', message: `url refused: ${(error as Error).message}` }]);
    }
  }

  /** The organization's webhook or 404; inside a transaction, read on that transaction (`tx`). */
  async function load(scope: OrgScope, webhookId: string, client: Pick<Tx, 'webhook'> = db.prisma): Promise<Webhook> {
    const webhook = await client.webhook.findFirst({ where: { id: webhookId, organizationId: scope.orgId } });
    if (!webhook) throw notFound('Webhook');
    return webhook;
  }

  return {
    async create(scope: OrgScope, body: CreateWebhookBody, context: RequestContext) {
      await checkReachable(body.url);
      const secret = generateWebhookSecret();
      const webhook = await db.prisma.$transaction(async (tx) => {
        const id = crypto.randomUUID();
        const created = await tx.webhook.create({
          data: { id, organizationId: scope.orgId, url: body.url, description: body.description, eventTypes: body.eventTypes, secretSealed: sealSecret(deps.keyRing(), id, secret), createdByUserId: scope.userId },
        });
        await recordAudit(tx, { actor: actor(scope), action: 'webhook.create', targetType: 'webhook', targetId: id, details: { organizationId: scope.orgId, host: host(body.url), eventTypes: body.eventTypes }, context });
        return created;
      });
      return { ...presentWebhook(webhook), secret };
    },

    async list(scope: OrgScope) {
      const rows = await db.prisma.webhook.findMany({ where: { organizationId: scope.orgId }, orderBy: { createdAt: 'asc' } });
      return rows.map(presentWebhook);
    },

    async get(scope: OrgScope, webhookId: string) {
      return presentWebhook(await load(scope, webhookId));
    },

    async update(scope: OrgScope, webhookId: string, body: UpdateWebhookBody, context: RequestContext) {
      if (body.url) await checkReachable(body.url);
      return db.prisma.$transaction(async (tx) => {
        const before = await load(scope, webhookId, tx);
        const reenable = body.enabled === true && !before.enabled;
        const updated = await tx.webhook.update({
          where: { id: webhookId },
          data: {
            url: body.url,
            description: body.description,
            eventTypes: body.eventTypes,
            enabled: body.enabled,
            ...(reenable ? { disabledReason: null, consecutiveFailures: 0, failingSince: null } : {}),
          },
        });
        // Disabling drops what is still owed, as the automatic disable does.
        if (body.enabled === false) await tx.webhookDelivery.updateMany({ where: { webhookId, status: 'pending' }, data: { status: 'failed', completedAt: new Date() } });
        await recordAudit(tx, {
          actor: actor(scope),
          action: 'webhook.update',
          targetType: 'webhook',
          targetId: webhookId,
          details: { organizationId: scope.orgId, host: host(updated.url), fields: Object.keys(body) },
          context,
        });
        return presentWebhook(updated);
      });
    },

    async remove(scope: OrgScope, webhookId: string, context: RequestContext) {
      await db.prisma.$transaction(async (tx) => {
        const webhook = await load(scope, webhookId, tx);
        await tx.webhook.delete({ where: { id: webhookId } });
        await recordAudit(tx, { actor: actor(scope), action: 'webhook.delete', targetType: 'webhook', targetId: webhookId, details: { organizationId: scope.orgId, host: host(webhook.url) }, context });
      });
    },

    async rotateSecret(scope: OrgScope, webhookId: string, overlapSeconds: number | undefined, context: RequestContext) {
      const secret = generateWebhookSecret();
      const overlapMs = overlapSeconds === undefined ? settings.secretOverlapMs : overlapSeconds * 1000;
      const updated = await db.prisma.$transaction(async (tx) => {
        const webhook = await load(scope, webhookId, tx);
        const next = await tx.webhook.update({
          where: { id: webhookId },
          data: {
            secretSealed: sealSecret(deps.keyRing(), webhookId, secret),
            previousSecretSealed: overlapMs > 0 ? new Uint8Array(webhook.secretSealed) : null,
            previousSecretExpiresAt: overlapMs > 0 ? new Date(Date.now() + overlapMs) : null,
          },
        });
        await recordAudit(tx, { actor: actor(scope), action: 'webhook.rotate_secret', targetType: 'webhook', targetId: webhookId, details: { organizationId: scope.orgId, overlapSeconds: Math.round(overlapMs / 1000) }, context });
        return next;
      });
      return { ...presentWebhook(updated), secret };
    },

    /** Queues a `webhook.test` message through the normal delivery path (signing, SSRF, log). */
    async test(scope: OrgScope, webhookId: string, context: RequestContext) {
      return db.prisma.$transaction(async (tx) => {
        const webhook = await load(scope, webhookId, tx);
        if (!webhook.enabled) throw unprocessable('The request is not valid.', [{ path: 'webhookId', message: 'the webhook is disabled; enable it first' }]);
        const id = crypto.randomUUID();
        const payload = JSON.stringify({ id: null, type: 'webhook.test', timestamp: new Date().toISOString(), organizationId: scope.orgId, subject: { type: 'webhook', id: webhookId }, data: {} });
        await tx.webhookDelivery.create({ data: { id, webhookId, eventType: 'webhook.test', payload } });
        await recordAudit(tx, { actor: actor(scope), action: 'webhook.test', targetType: 'webhook', targetId: webhookId, details: { organizationId: scope.orgId, deliveryId: id }, context });
        return { deliveryId: id };
      });
    },

    async deliveries(scope: OrgScope, webhookId: string, limit: number) {
      await load(scope, webhookId);
      const rows = await db.prisma.webhookDelivery.findMany({
        where: { webhookId },
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        take: limit,
        include: { attemptsLog: { orderBy: { attempt: 'asc' } } },
      });
      return rows.map((d) => ({
        id: d.id,
        eventId: d.eventId?.toString() ?? null,
        eventType: d.eventType,
        status: d.status,
        nextAttemptAt: d.status === 'pending' ? d.nextAttemptAt.toISOString() : null,
        createdAt: d.createdAt.toISOString(),
        attempts: d.attemptsLog.map((a) => ({ attempt: a.attempt, statusCode: a.statusCode, durationMs: a.durationMs, response: a.response, error: a.error, at: a.createdAt.toISOString() })),
      }));
    },
  };
}
export type WebhooksService = ReturnType<typeof createWebhooksService>;
