// Wires events, streams, presence and webhooks into the app: the hub on the commands feature's
// LISTEN connection (one per instance), the workers (presence, retention, webhook delivery) and
// the routes under /api/orgs/:orgId/{events,webhooks}.
import type { Config } from '../../config.ts';
import type { Database } from '../../platform/database.ts';
import type { ApiRouter } from '../../platform/http/api-router.ts';
import type { Lifecycle } from '../../platform/lifecycle.ts';
import type { Logger } from '../../platform/logger.ts';
import type { CommandNotifier } from '../commands/command-notifier.ts';
import type { DongleTokenKeyRing } from '../dongles/token-crypto.ts';
import { createDeliveryWorker } from '../webhooks/delivery-worker.ts';
import { mountWebhookRoutes } from '../webhooks/webhooks.routes.ts';
import { createWebhooksService } from '../webhooks/webhooks.service.ts';
import { EventHub } from './event-hub.ts';
import { createEventPruner } from './event-retention.ts';
import { mountEventRoutes } from './events.routes.ts';
import { createEventsService } from './events.service.ts';
import { createPresenceWorker } from './presence.ts';
import { createAlertWorker } from '../alerts/alert-evaluator.ts';
import { mountAlertRoutes } from '../alerts/alerts.routes.ts';

export interface EventsFeatureDeps {
  config: Config;
  db: Database;
  logger: Logger;
  lifecycle: Lifecycle;
  listener: CommandNotifier;
  keyRing: () => DongleTokenKeyRing;
  mount(path: string): ApiRouter;
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

  const events = createEventsService({ db });
  const orgs = deps.mount('/orgs');
  mountEventRoutes(orgs, {
    db,
    events,
    hub,
    signal: lifecycle.signal,
    stream: {
      heartbeatMs: config.events.heartbeatMs,
      maxBufferedBytes: config.events.maxBufferedBytes,
      recheckMs: config.events.recheckMs,
      perUser: config.events.streamsPerUser,
    },
  });
  lifecycle.addWorker(createAlertWorker({ db, logger, intervalMs: config.events.alertIntervalMs, publicUrl: config.publicUrl }));
  mountAlertRoutes(orgs, { db });
  mountWebhookRoutes(orgs, { webhooks: createWebhooksService({ db, keyRing: deps.keyRing, settings: config.webhooks }) });
  return { hub, events, delivery };
}
