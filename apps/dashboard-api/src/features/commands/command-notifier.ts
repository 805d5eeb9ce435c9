// Wakes waiting long-polls when a command is queued, on every instance.
//
// One dedicated pg connection per app instance LISTENs on COMMANDS_CHANNEL (a pooled connection
// cannot hold a LISTEN: it goes back to the pool). Each NOTIFY names one agent: `work:<id>`
// (a command it can claim was queued: only that agent's polls wake and re-run the hand-out
// query, never every poll of the owner) or `revoked:<id>` (the agent was deleted, its token
// rotated or its owner suspended: its waiting polls end with nothing). If the connection is
// lost we reconnect with backoff and wake everyone, because notifications sent meanwhile are
// gone. While disconnected, waiters also re-check on a short timer (see `recheckMs`), so a lost
// listener delays work, never loses it.
//
// Other features share this one connection rather than opening their own: `listen(channel, …)`
// adds a channel (the event log's fleet_events, issue 13), and `onReconnect` tells them when
// notifications may have been missed.
import pg from 'pg';
import type { BackgroundWorker } from '../../platform/lifecycle.ts';
import type { Logger } from '../../platform/logger.ts';
import { fleetCounters } from '../../platform/metrics.ts';
import { COMMANDS_CHANNEL } from './command-queue.ts';

/** Why a waiter woke: new work (or a reconnect/shutdown: re-check), or its agent was revoked. */
export type WakeReason = 'work' | 'revoked';

export interface Wakeup {
  /** Resolves when a NOTIFY for this agent arrives, the listener reconnects, or on shutdown. */
  promise: Promise<WakeReason>;
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
  private readonly waiters = new Map<string, Set<(reason: WakeReason) => void>>();
  private client: pg.Client | undefined;
  private connected = false;
  private stopped = false;
  private backoffMs: number;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private connecting: Promise<void> | undefined;
  private pid: number | undefined;
  private readonly channels = new Map<string, Set<(payload: string) => void>>();
  private readonly reconnectHandlers = new Set<() => void>();

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

  /** Registers interest in commands `agentId` can claim. Register before checking, to miss nothing. */
  wait(agentId: string): Wakeup {
    let wake!: (reason: WakeReason) => void;
    const promise = new Promise<WakeReason>((resolve) => (wake = resolve));
    let set = this.waiters.get(agentId);
    if (!set) this.waiters.set(agentId, (set = new Set()));
    set.add(wake);
    const cancel = () => {
      const current = this.waiters.get(agentId);
      current?.delete(wake);
      if (current?.size === 0) this.waiters.delete(agentId);
    };
    return {
      promise: promise.then((reason) => {
        cancel();
        return reason;
      }),
      cancel,
    };
  }

  /** Calls `handler` with the payload of every NOTIFY on `channel` (LISTENs on it from now on). */
  listen(channel: string, handler: (payload: string) => void): () => void {
    let set = this.channels.get(channel);
    if (!set) {
      this.channels.set(channel, (set = new Set()));
      if (this.connected) void this.client?.query(`LISTEN ${channel}`).catch(() => undefined);
    }
    set.add(handler);
    return () => set.delete(handler);
  }

  /** Called after every (re)connect: notifications sent while disconnected are gone. */
  onReconnect(handler: () => void): () => void {
    this.reconnectHandlers.add(handler);
    return () => this.reconnectHandlers.delete(handler);
  }

  /** True while the LISTEN connection is up (others poll while it is not). */
  get isListening(): boolean {
    return this.connected;
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

  private wakeAgent(agentId: string, reason: WakeReason): void {
    const set = this.waiters.get(agentId);
    if (!set) return;
    this.waiters.delete(agentId);
    for (const wake of set) wake(reason);
  }

  private wakeAll(): void {
    const all = [...this.waiters.values()];
    this.waiters.clear();
    for (const set of all) for (const wake of set) wake('work');
  }

  private onNotification(payload: string): void {
    const colon = payload.indexOf(':');
    const kind = payload.slice(0, colon);
    if (kind === 'work' || kind === 'revoked') this.wakeAgent(payload.slice(colon + 1), kind);
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
        if (message.channel === COMMANDS_CHANNEL && message.payload) this.onNotification(message.payload);
        else for (const handler of this.channels.get(message.channel) ?? []) handler(message.payload ?? '');
      });
      try {
        await client.connect();
        await client.query(`LISTEN ${COMMANDS_CHANNEL}`);
        for (const channel of this.channels.keys()) await client.query(`LISTEN ${channel}`);
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
      for (const handler of this.reconnectHandlers) handler();
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
