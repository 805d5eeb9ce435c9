// Wakes waiting long-polls when a command is queued, on every instance.
//
// One dedicated pg connection per app instance LISTENs on COMMANDS_CHANNEL (a pooled connection
// cannot hold a LISTEN: it goes back to the pool). Each NOTIFY carries the dongle owner's user id
// and wakes, in process, every poll of that user's agents; they re-run the hand-out query,
// which decides who gets what. If the connection is lost we reconnect with backoff and wake
// everyone, because notifications sent meanwhile are gone. While disconnected, waiters also
// re-check on a short timer (see `recheckMs`), so a lost listener delays work, never loses it.
import pg from 'pg';
import type { BackgroundWorker } from '../../platform/lifecycle.ts';
import type { Logger } from '../../platform/logger.ts';
import { fleetCounters } from '../../platform/metrics.ts';
import { COMMANDS_CHANNEL } from './command-queue.ts';

export interface Wakeup {
  /** Resolves when a relevant NOTIFY arrives, the listener reconnects, or on shutdown. */
  promise: Promise<void>;
  cancel(): void;
}

export interface CommandNotifierOptions {
  databaseUrl: string;
  logger: Logger;
  /** First reconnect delay; doubles up to maxBackoffMs. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

export class CommandNotifier implements BackgroundWorker {
  readonly name = 'command-notifier';
  private readonly waiters = new Map<string, Set<() => void>>();
  private client: pg.Client | undefined;
  private connected = false;
  private stopped = false;
  private backoffMs: number;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private connecting: Promise<void> | undefined;
  private pid: number | undefined;

  constructor(private readonly options: CommandNotifierOptions) {
    this.backoffMs = options.minBackoffMs ?? 100;
  }

  /** How long a waiter should sleep before re-checking by itself: forever-ish when listening. */
  recheckMs(): number {
    return this.connected ? Number.POSITIVE_INFINITY : 1_000;
  }

  start(): void {
    this.stopped = false;
    void this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    this.wakeAll();
    const client = this.client;
    this.client = undefined;
    this.connected = false;
    await this.connecting?.catch(() => undefined);
    await client?.end().catch(() => undefined);
  }

  /** Registers interest in commands for `userId`'s dongles. Register before checking, to miss nothing. */
  wait(userId: string): Wakeup {
    let wake!: () => void;
    const promise = new Promise<void>((resolve) => (wake = resolve));
    let set = this.waiters.get(userId);
    if (!set) this.waiters.set(userId, (set = new Set()));
    set.add(wake);
    const cancel = () => {
      const current = this.waiters.get(userId);
      current?.delete(wake);
      if (current?.size === 0) this.waiters.delete(userId);
    };
    return { promise: promise.then(cancel), cancel };
  }

  /** Number of polls waiting in this process (tests and metrics). */
  get waiting(): number {
    let count = 0;
    for (const set of this.waiters.values()) count += set.size;
    return count;
  }

  /** The listening backend's pid while connected (tests terminate it to prove the reconnect). */
  get backendPid(): number | undefined {
    return this.connected ? this.pid : undefined;
  }

  private wakeUser(userId: string): void {
    const set = this.waiters.get(userId);
    if (!set) return;
    this.waiters.delete(userId);
    for (const wake of set) wake();
  }

  private wakeAll(): void {
    const all = [...this.waiters.values()];
    this.waiters.clear();
    for (const set of all) for (const wake of set) wake();
  }

  private connect(): Promise<void> {
    return (this.connecting = (async () => {
      const client = new pg.Client({ connectionString: this.options.databaseUrl, application_name: 'dashboard-api-listener', connectionTimeoutMillis: 3_000, keepAlive: true });
      let failed = false;
      const onLost = (error?: Error) => {
        if (failed) return;
        failed = true;
        if (this.client === client) {
          this.client = undefined;
          this.connected = false;
        }
        client.removeAllListeners('notification');
        void client.end().catch(() => undefined);
        if (this.stopped) return;
        fleetCounters.listenerDisconnects.inc();
        this.options.logger.warn({ err: error?.message, retryInMs: this.backoffMs }, 'command listener connection lost; reconnecting');
        this.scheduleReconnect();
      };
      client.on('error', onLost);
      client.on('end', () => onLost());
      client.on('notification', (message) => {
        if (message.channel === COMMANDS_CHANNEL && message.payload) this.wakeUser(message.payload);
      });
      try {
        await client.connect();
        await client.query(`LISTEN ${COMMANDS_CHANNEL}`);
        this.pid = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid;
      } catch (error) {
        onLost(error as Error);
        return;
      }
      if (this.stopped || failed) {
        await client.end().catch(() => undefined);
        return;
      }
      this.client = client;
      this.connected = true;
      this.backoffMs = this.options.minBackoffMs ?? 100;
      // Anything queued while we were not listening went unannounced: everyone re-checks.
      this.wakeAll();
    })());
  }

  private scheduleReconnect(): void {
    clearTimeout(this.reconnectTimer);
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, this.options.maxBackoffMs ?? 5_000);
    this.reconnectTimer = setTimeout(() => {
      if (!this.stopped) void this.connect();
    }, delay);
    this.reconnectTimer.unref();
  }
}
