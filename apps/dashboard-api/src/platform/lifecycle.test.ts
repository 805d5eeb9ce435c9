// periodicWorker: the one loop of every background worker (sweeper, lapse, retention, presence,
// alerts, pruners, webhook delivery). Intervals here are an hour, so every run is a wake-up.
import { describe, expect, it } from 'vitest';
import { periodicWorker } from './lifecycle.ts';

const HOUR = 3_600_000;

function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

describe('periodicWorker', () => {
  it('runs at once when woken, and ignores wake-ups before start and after stop', async () => {
    let runs = 0;
    const worker = periodicWorker({ name: 't', intervalMs: HOUR, work: async () => void runs++, onError: () => undefined });
    worker.wake();
    expect(runs).toBe(0);
    worker.start();
    worker.wake();
    await worker.stop();
    expect(runs).toBe(1);
    worker.wake();
    expect(runs).toBe(1);
  });

  it('runs once more after the run in progress when woken during it, never two at once', async () => {
    const first = gate();
    let active = 0;
    let most = 0;
    let runs = 0;
    const second = gate();
    const worker = periodicWorker({
      name: 't',
      intervalMs: HOUR,
      work: async () => {
        most = Math.max(most, ++active);
        runs++;
        if (runs === 1) await first.opened;
        if (runs === 2) second.open();
        active--;
      },
      onError: () => undefined,
    });
    worker.start();
    worker.wake();
    worker.wake();
    worker.wake();
    first.open();
    await second.opened;
    await worker.stop();
    expect({ runs, most }).toEqual({ runs: 2, most: 1 });
  });

  it('aborts the signal of a run in progress on stop, waits for it, and reports a failed run', async () => {
    const started = gate();
    const errors: unknown[] = [];
    let seen: AbortSignal | undefined;
    const worker = periodicWorker({
      name: 't',
      intervalMs: HOUR,
      work: async (signal) => {
        seen = signal;
        started.open();
        await new Promise((resolve) => signal.addEventListener('abort', resolve));
        throw new Error('ended early');
      },
      onError: (error) => errors.push(error),
    });
    worker.start();
    worker.wake();
    await started.opened;
    expect(seen?.aborted).toBe(false);
    await worker.stop();
    expect(seen?.aborted).toBe(true);
    expect(errors.map((error) => (error as Error).message)).toEqual(['ended early']);
  });
});
