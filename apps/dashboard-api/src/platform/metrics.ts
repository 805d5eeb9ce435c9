// Prometheus metrics (doc/operations.md lists them all). Every label has a small, fixed set of
// values: route patterns, command types and statuses, rate-limit rule names.
import type { RequestHandler } from 'express';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  registry: Registry;
  httpRequests: Counter<'method' | 'route' | 'status'>;
  httpDuration: Histogram<'method' | 'route'>;
}

/**
 * Counters of state changes, incremented where the change happens (one line each). They are
 * process-wide, like the process metrics, because those places (command queue, sweeper, rate
 * limits, email sender) are shared code without an app handle; every app's registry exposes
 * them. A production process runs one app; tests that build several compare deltas.
 */
export const fleetCounters = {
  commandsCreated: new Counter({ name: 'fleet_commands_created_total', help: 'Commands queued, by type', labelNames: ['type'], registers: [] }),
  commandsDelivered: new Counter({ name: 'fleet_commands_delivered_total', help: 'Commands handed to an agent by a poll, by type', labelNames: ['type'], registers: [] }),
  commandsFinished: new Counter({
    name: 'fleet_commands_finished_total',
    help: 'Commands that reached a final status (SUCCEEDED, FAILED, EXPIRED, TIMED_OUT, CANCELLED), by type and status',
    labelNames: ['type', 'status'],
    registers: [],
  }),
  listenerDisconnects: new Counter({ name: 'fleet_command_listener_disconnects_total', help: 'Times the LISTEN connection for command wake-ups was lost (it reconnects by itself)', registers: [] }),
  rateLimitRejections: new Counter({ name: 'fleet_rate_limit_rejections_total', help: 'Hits over a rate-limit rule (a 429, or an email not sent), by rule name', labelNames: ['rule'], registers: [] }),
  emailFailures: new Counter({
    name: 'fleet_email_delivery_failures_total',
    help: 'Failed email delivery attempts; outcome=retry (will be tried again) or gave_up (now FAILED)',
    labelNames: ['outcome'],
    registers: [],
  }),
};

// Both outcomes exist from the start, so rate() and alerts see a 0 rather than no series.
for (const outcome of ['retry', 'gave_up']) fleetCounters.emailFailures.inc({ outcome }, 0);

/** A registry per app instance, so tests can build several apps in one process. */
export function createMetrics(): Metrics {
  const registry = new Registry();
  // Includes nodejs_eventloop_lag_seconds and the lag percentiles (nodejs_eventloop_lag_p99_seconds, …).
  collectDefaultMetrics({ register: registry });
  for (const counter of Object.values(fleetCounters)) registry.registerMetric(counter as Counter<string>);
  return {
    registry,
    httpRequests: new Counter({ name: 'http_requests_total', help: 'HTTP requests by route and status', labelNames: ['method', 'route', 'status'], registers: [registry] }),
    httpDuration: new Histogram({ name: 'http_request_duration_seconds', help: 'HTTP request duration', labelNames: ['method', 'route'], buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], registers: [registry] }),
  };
}

/**
 * A gauge read on scrape from `read()`, which may be async; with a shared cached source (see
 * cachedSource) several gauges cost one database round trip per scrape at most.
 */
export function gaugeOnScrape<L extends string>(
  registry: Registry,
  options: { name: string; help: string; labelNames?: L[] },
  read: () => Promise<Array<{ labels?: Partial<Record<L, string>>; value: number }> | number | undefined> | number | undefined,
): void {
  new Gauge<L>({
    name: options.name,
    help: options.help,
    labelNames: options.labelNames ?? [],
    registers: [registry],
    async collect() {
      const values = await read();
      if (values === undefined) return;
      if (typeof values === 'number') return void this.set(values);
      for (const { labels, value } of values) this.set((labels ?? {}) as Partial<Record<L, string | number>>, value);
    },
  });
}

/** Runs `load` at most once per `maxAgeMs`; concurrent scrapes share one run. */
export function cachedSource<T>(load: () => Promise<T>, maxAgeMs: number): () => Promise<T> {
  let cached: { at: number; value: Promise<T> } | undefined;
  return () => {
    if (!cached || Date.now() - cached.at > maxAgeMs) {
      const value = load();
      cached = { at: Date.now(), value };
      value.catch(() => (cached = undefined));
    }
    return cached.value;
  };
}

/** Labels by the matched route pattern (not the raw path) to keep cardinality bounded. */
export function metricsMiddleware(metrics: Metrics): RequestHandler {
  return (req, res, next) => {
    const end = metrics.httpDuration.startTimer();
    res.on('finish', () => {
      const route = req.route?.path ? `${req.baseUrl}${String(req.route.path)}` : 'unmatched';
      metrics.httpRequests.inc({ method: req.method, route, status: String(res.statusCode) });
      end({ method: req.method, route });
    });
    next();
  };
}
