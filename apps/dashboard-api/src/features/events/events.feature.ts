// Events: the hub on the instance's shared LISTEN connection (the commands feature's notifier,
// handed in by app.ts), and the workers of the event log (retention, presence). Webhooks and
// alerts follow events but are their own features, set up beside this one in app.ts.
// The routes under /api/orgs/:orgId/events are mounted by src/routes/operator.ts.
import type { Config } from '../../config.ts';
import type { Database } from '../../platform/database.ts';
import type { Lifecycle } from '../../platform/lifecycle.ts';
import type { Logger } from '../../platform/logger.ts';
import { EventHub, type NotificationListener } from './event-hub.ts';
import { createEventPruner } from './event-retention.ts';
import { createEventsService } from './events.service.ts';
import { createPresenceWorker } from './presence.ts';

export interface EventsFeatureDeps {
  config: Config;
  db: Database;
  logger: Logger;
  lifecycle: Lifecycle;
  listener: NotificationListener;
}

export function setupEvents(deps: EventsFeatureDeps) {
  const { config, db, logger, lifecycle } = deps;
  const hub = new EventHub({ db, listener: deps.listener, logger });
  lifecycle.addWorker(hub);
  lifecycle.addWorker(createEventPruner({ db, logger, retentionMs: config.events.retentionMs, intervalMs: config.events.pruneIntervalMs }));
  // Presence is checked twice per poll interval, so a transition is announced within 1.5 intervals.
  if (config.events.presenceEnabled) lifecycle.addWorker(createPresenceWorker({ db, logger, pollIntervalMs: config.agentPollIntervalMs, intervalMs: Math.max(250, config.agentPollIntervalMs / 2) }));
  const events = createEventsService({ db });
  return { hub, events };
}
