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

  get stopping(): boolean {
    return this.controller.signal.aborted;
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
