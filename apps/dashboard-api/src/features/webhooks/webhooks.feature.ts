// Webhooks: the service behind the routes (mounted by src/routes/operator.ts) and the delivery
// worker. Deliveries are written with their event (platform/events/event-writer.ts); the worker
// posts them, woken by the event hub (app.ts passes its onEvent) or by its own poll.
import type { Config } from '../../config.ts';
import type { Database } from '../../platform/database.ts';
import type { Lifecycle } from '../../platform/lifecycle.ts';
import type { Logger } from '../../platform/logger.ts';
import type { DongleTokenKeyRing } from '../dongles/token-crypto.ts';
import { createDeliveryWorker } from './delivery-worker.ts';
import { createWebhooksService } from './webhooks.service.ts';

export interface WebhooksFeatureDeps {
  config: Config;
  db: Database;
  logger: Logger;
  lifecycle: Lifecycle;
  keyRing: () => DongleTokenKeyRing;
  /** Calls `listener` after each committed event this instance hears of (EventHub.onEvent). */
  onEvent: (listener: () => void) => unknown;
}

export function setupWebhooks(deps: WebhooksFeatureDeps) {
  const { config, db, logger, lifecycle } = deps;
  const delivery = createDeliveryWorker({ db, logger, keyRing: deps.keyRing, settings: config.webhooks, publicUrl: config.publicUrl });
  if (config.webhooks.deliveryEnabled) lifecycle.addWorker(delivery);
  // A committed event may owe webhook deliveries: try them now rather than at the next poll.
  deps.onEvent(() => delivery.wake());
  const webhooks = createWebhooksService({ db, keyRing: deps.keyRing, settings: config.webhooks });
  return { delivery, webhooks };
}
