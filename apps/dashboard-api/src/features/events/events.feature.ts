// Events, streams, presence, alerts and webhooks: the hub on the commands feature's LISTEN
// connection (one per instance) and the workers (presence, retention, alerts, webhook delivery).
// The routes under /api/orgs/:orgId/{events,alerts,webhooks} are mounted by src/routes/operator.ts.
import type { Config } from '../../config.ts';
import type { Database } from '../../platform/database.ts';
import type { Lifecycle } from '../../platform/lifecycle.ts';
import type { Logger } from '../../platform/logger.ts';
import type { CommandNotifier } from '../commands/command-notifier.ts';
import type { DongleTokenKeyRing } from '../dongles/token-crypto.ts';
import { createDeliveryWorker } from '../webhooks/delivery-worker.ts';
import { createWebhooksService } from '../webhooks/webhooks.service.ts';
import { EventHub } from './event-hub.ts';
import { createEventPruner } from './event-retention.ts';
import { createEventsService } from './events.service.ts';
import { createPresenceWorker } from './presence.ts';
import { createAlertWorker } from '../alerts/alert-evaluator.ts';

export interface EventsFeatureDeps {
  config: Config;
  db: Database;
  logger: Logger;
  lifecycle: Lifecycle;
  listener: CommandNotifier;
  keyRing: () => DongleTokenKeyRing;
}

export function setupEvents(deps: EventsFeatureDeps) {
  const { config, db, logger, lifecycle } = deps;
  const hub = new EventHub({ db, listener: deps.listener, logger });
  lifecycle.addWorker(hub);
  lifecycle.addWorker(createEventPruner({ db, logger, retentionMs: config.events.retentionMs, intervalMs: config.events.pruneIntervalMs }));
  // Presence is checked twice per poll interval, so a transition is announced within 1.5 intervals.
  if (config.events.presenceEnabled) lifecycle.addWorker(createPresenceWorker({ db, logger, pollIntervalMs: config.agentPollIntervalMs, intervalMs: Math.max(250, config.agentPollIntervalMs / 2) }));
  const delivery = createDeliveryWorker({ db, logger, keyRing: deps.keyRing, settings: config.webhooks, publicUrl: config.publicUrl });
  if (config.webhooks.deliveryEnabled) lifecycle.addWorker(delivery);
  // A committed event may owe webhook deliveries: try them now rather than at the next poll.
  hub.onEvent(() => delivery.wake());

  lifecycle.addWorker(createAlertWorker({ db, logger, intervalMs: config.events.alertIntervalMs, publicUrl: config.publicUrl }));
  const events = createEventsService({ db });
  const webhooks = createWebhooksService({ db, keyRing: deps.keyRing, settings: config.webhooks });
  return { hub, events, delivery, webhooks };
}
