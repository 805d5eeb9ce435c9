// Shutdown coordination. Long-running work (long-polls, background workers) watches `signal`
// and finishes promptly when the service stops.
import type { Logger } from './logger.ts';

export interface BackgroundWorker {
  name: string;
  start(): void;
  stop(): Promise<void>;
}

export class Lifecycle {
  private readonly controller = new AbortController();
  private readonly workers: BackgroundWorker[] = [];
  private started = false;

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  addWorker(worker: BackgroundWorker): void {
    this.workers.push(worker);
    if (this.started) worker.start();
  }

  startWorkers(): void {
    this.started = true;
    for (const worker of this.workers) worker.start();
  }

  /** Signals shutdown and waits for every worker to stop. */
  async stop(): Promise<void> {
    this.controller.abort();
    await Promise.allSettled(this.workers.map((worker) => worker.stop()));
  }
}

/**
 * A worker that runs `work` every `intervalMs` (never two runs at once; the next run is scheduled
 * after the previous one ends). A failed run is logged (a warning naming the worker) and retried
 * at the next interval; stop() waits for a run in progress.
 */
export function periodicWorker(options: {
  name: string;
  intervalMs: number;
  work: () => Promise<void>;
  logger: Pick<Logger, 'warn'>;
}): BackgroundWorker {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;
  const schedule = () => {
    timer = setTimeout(tick, options.intervalMs);
    timer.unref();
  };
  const tick = () => {
    running = options
      .work()
      .catch((error: unknown) => options.logger.warn({ worker: options.name, err: (error as Error).message }, `${options.name} failed; retrying next interval`))
      .finally(() => {
        running = undefined;
        if (!stopped) schedule();
      });
  };
  return {
    name: options.name,
    start() {
      stopped = false;
      schedule();
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
