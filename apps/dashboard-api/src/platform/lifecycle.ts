// Shutdown coordination. Long-running work (long-polls, background workers) watches `signal`
// and finishes promptly when the service stops.
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

/** A background worker that can also be asked to run now. */
export interface PeriodicWorker extends BackgroundWorker {
  /**
   * Runs `work` now instead of at the next interval; during a run, once more right after it.
   * Ignored before start() and after stop().
   */
  wake(): void;
}

/**
 * A worker that runs `work` every `intervalMs` (never two runs at once; the next run is scheduled
 * after the previous one ends), and at once when woken. A failed run goes to `onError` and is
 * retried at the next interval; stop() aborts `signal` (a long run may end early) and waits for a
 * run in progress.
 */
export function periodicWorker(options: {
  name: string;
  intervalMs: number;
  work: (signal: AbortSignal) => Promise<void>;
  onError: (error: unknown) => void;
}): PeriodicWorker {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let stopped = true;
  let stopping = new AbortController();
  const schedule = () => {
    clearTimeout(timer);
    timer = setTimeout(run, options.intervalMs);
    timer.unref();
  };
  const run = () => {
    running = options
      .work(stopping.signal)
      .catch(options.onError)
      .finally(() => {
        running = undefined;
        if (stopped) return;
        if (again) {
          again = false;
          run();
        } else {
          schedule();
        }
      });
  };
  return {
    name: options.name,
    start() {
      stopped = false;
      stopping = new AbortController();
      schedule();
    },
    async stop() {
      stopped = true;
      stopping.abort();
      clearTimeout(timer);
      await running;
    },
    wake() {
      if (stopped) return;
      if (running) {
        again = true;
        return;
      }
      clearTimeout(timer);
      run();
    },
  };
}
