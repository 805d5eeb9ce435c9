// Request and response shapes of /api/orgs/:orgId/webhooks.
import { z } from 'zod';
import { EVENT_TYPE_NAMES } from '../../platform/events/event-types.ts';
import { urlProblem } from './ssrf-guard.ts';

const uuid = (name: string) => z.uuid({ message: `${name} must be a UUID` });

export const orgParams = z.strictObject({ orgId: uuid('orgId') });
export const webhookParams = z.strictObject({ orgId: uuid('orgId'), webhookId: uuid('webhookId') });

const url = z
  .string()
  .max(2048)
  .superRefine((value, ctx) => {
    const problem = urlProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: `url ${problem}` });
  });
const eventTypes = z.array(z.enum(EVENT_TYPE_NAMES as [string, ...string[]])).max(EVENT_TYPE_NAMES.length);

export const createWebhookBody = z.strictObject({
  url,
  /** Empty or absent: every event type. */
  eventTypes: eventTypes.default([]),
  description: z.string().max(500).default(''),
});
export type CreateWebhookBody = z.output<typeof createWebhookBody>;

export const updateWebhookBody = z
  .strictObject({
    url: url.optional(),
    eventTypes: eventTypes.optional(),
    description: z.string().max(500).optional(),
    /** true re-enables a disabled webhook (and clears its failure count). */
    enabled: z.boolean().optional(),
  })
  .refine((body) => Object.keys(body).length > 0, 'nothing to change');
export type UpdateWebhookBody = z.output<typeof updateWebhookBody>;

export const rotateSecretBody = z.strictObject({
  /** How long the old secret keeps signing; default WEBHOOK_SECRET_OVERLAP_HOURS. 0 ends it now. */
  overlapSeconds: z.number().int().min(0).max(7 * 86_400).optional(),
});

export const deliveriesQuery = z.strictObject({ limit: z.coerce.number().int().min(1).max(100).default(50) });

export const webhookView = z.object({
  id: z.string(),
  url: z.string(),
  description: z.string(),
  eventTypes: z.array(z.string()),
  enabled: z.boolean(),
  disabledReason: z.string().nullable(),
  consecutiveFailures: z.number(),
  previousSecretExpiresAt: z.string().nullable(),
  createdAt: z.string(),
});
export const webhookWithSecret = webhookView.extend({ secret: z.string().describe('Shown once: store it now.') });

export const attemptView = z.object({
  attempt: z.number(),
  statusCode: z.number().nullable(),
  durationMs: z.number(),
  response: z.string(),
  error: z.string().nullable(),
  at: z.string(),
});
export const deliveryView = z.object({
  id: z.string().describe('The webhook-id header of every attempt'),
  eventId: z.string().nullable(),
  eventType: z.string(),
  status: z.enum(['pending', 'succeeded', 'failed']),
  attempts: z.array(attemptView),
  nextAttemptAt: z.string().nullable(),
  createdAt: z.string(),
});
