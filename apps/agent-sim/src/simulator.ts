// A simulated desktop agent with N simulated dongles. It enrolls with a one-time code (or reuses
// a token), heartbeats its dongles, performs the token exchange and acknowledgement for dongles
// its operator claimed (and the wipe acknowledgement for released ones), long-polls for commands
// and answers them:
//   PING → {pong: true, echo?}        SEND_FRAME → the frame echoed back
//   APPLY_CAN_CONFIG → {appliedVersion} GET_STATUS → a small status report   others → {ok: true}
// Every step is a function, so a test can drive it one step at a time, or `start()` runs the loops.
import { createHash, randomBytes } from 'node:crypto';
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { AgentClient, ApiError, type AgentCommand, type CommandResult, type HeartbeatAnswer } from './agent-client.ts';

export interface SimulatedDongle {
  deviceId: string;
  firmwareVersion: string;
  /** The secret the dongle "stored" after the token exchange. */
  token: string | undefined;
  appliedConfigVersion: number;
  capturing: boolean;
  framesSent: number;
}

export interface SimulatorOptions {
  baseUrl: string;
  /** An enrolled agent's bearer token; otherwise call enroll() with a code first. */
  token?: string;
  name?: string;
  hostname?: string;
  version?: string;
  /** How many dongles to simulate (random ids), or their device ids. Default 2. */
  dongles?: number | string[];
  /** Derive device ids from this seed instead of at random, so restarts report the same dongles. */
  seed?: string;
  /** Long-poll wait in seconds (0–30). Default 30. */
  pollWaitSeconds?: number;
  /** Heartbeat interval; default: what the server's heartbeat answer says. */
  heartbeatIntervalMs?: number;
  log?: (line: string) => void;
}

export function deviceIdsFor(count: number, seed?: string): string[] {
  return Array.from({ length: count }, (_, i) => (seed ? createHash('sha256').update(`${seed}:${i}`).digest('hex').slice(0, 16) : randomBytes(8).toString('hex')));
}

export class AgentSimulator {
  readonly client: AgentClient;
  readonly dongles: SimulatedDongle[];
  readonly handled: AgentCommand[] = [];
  private readonly version: string;
  private readonly log: (line: string) => void;
  private controller: AbortController | undefined;
  private loops: Promise<void>[] = [];
  private heartbeatIntervalMs: number | undefined;

  constructor(private readonly options: SimulatorOptions) {
    this.client = new AgentClient(options.baseUrl, options.token);
    this.version = options.version ?? '0.7.0-sim';
    this.log = options.log ?? (() => undefined);
    this.heartbeatIntervalMs = options.heartbeatIntervalMs;
    const ids = Array.isArray(options.dongles) ? options.dongles : deviceIdsFor(options.dongles ?? 2, options.seed);
    this.dongles = ids.map((deviceId) => ({ deviceId, firmwareVersion: '1.4.2', token: undefined, appliedConfigVersion: 0, capturing: false, framesSent: 0 }));
  }

  async enroll(code: string): Promise<{ agentId: string; token: string }> {
    const enrolled = await this.client.enroll(code, {
      name: this.options.name ?? 'agent-sim',
      hostname: this.options.hostname ?? os.hostname(),
      os: `${os.platform()} ${os.release()}`,
      version: this.version,
    });
    this.log(`enrolled as agent ${enrolled.agentId}`);
    return enrolled;
  }

  /** Reports every dongle, then acts on what the server says about the claimed ones. */
  async heartbeat(): Promise<HeartbeatAnswer> {
    const answer = await this.client.heartbeat(
      this.version,
      this.dongles.map((d) => ({ deviceId: d.deviceId, firmwareVersion: d.firmwareVersion })),
    );
    if (!this.options.heartbeatIntervalMs) this.heartbeatIntervalMs = answer.pollIntervalSeconds * 1_000;
    for (const { deviceId, state } of answer.dongles) {
      const dongle = this.dongles.find((d) => d.deviceId === deviceId);
      if (!dongle) continue;
      if (state === 'CLAIM_PENDING' || (state === 'CLAIMED_ACTIVE' && !dongle.token)) {
        // Token exchange: fetch the secret, "write" it into the dongle, then acknowledge.
        dongle.token = (await this.client.exchangeDongleToken(deviceId)).token;
        if (state === 'CLAIM_PENDING') await this.client.ackDongleToken(deviceId);
        this.log(`dongle ${deviceId}: token stored${state === 'CLAIM_PENDING' ? ', claim acknowledged' : ''}`);
      } else if (state === 'RELEASE_PENDING') {
        dongle.token = undefined;
        await this.client.ackDongleRelease(deviceId);
        this.log(`dongle ${deviceId}: token wiped, release acknowledged`);
      }
    }
    return answer;
  }

  /**
   * One long-poll; answers every command it receives. Returns how many it handled. A result
   * post that fails is logged and the rest of the batch still answered (otherwise they would
   * all time out); a 401 (token revoked) is rethrown after the batch so the loop stops.
   */
  async pollOnce(waitSeconds = this.options.pollWaitSeconds ?? 30, signal?: AbortSignal): Promise<number> {
    const commands = await this.client.poll(waitSeconds, signal);
    let refused: ApiError | undefined;
    for (const command of commands) {
      const result = this.execute(command);
      try {
        await this.client.postResult(command.id, result);
      } catch (error) {
        if (error instanceof ApiError && error.status === 401) refused ??= error;
        this.log(`${command.type} ${command.id} on ${command.deviceId}: result post failed (${(error as Error).message})`);
        continue;
      }
      this.handled.push(command);
      this.log(`${command.type} ${command.id} on ${command.deviceId}: ${result.status}`);
    }
    if (refused) throw refused;
    return commands.length;
  }

  /** What the simulated dongle does with a command. */
  execute(command: AgentCommand): CommandResult {
    const dongle = this.dongles.find((d) => d.deviceId === command.deviceId);
    if (!dongle) return { status: 'FAILED', error: `dongle ${command.deviceId} is not connected to this agent` };
    const payload = (command.payload ?? {}) as Record<string, unknown>;
    switch (command.type) {
      case 'PING':
        return { status: 'SUCCEEDED', result: { pong: true, ...(typeof payload.echo === 'string' ? { echo: payload.echo } : {}) } };
      case 'SEND_FRAME':
        dongle.framesSent++;
        return { status: 'SUCCEEDED', result: { echo: payload } };
      case 'APPLY_CAN_CONFIG': {
        const version = typeof payload.version === 'number' ? payload.version : 0;
        dongle.appliedConfigVersion = Math.max(dongle.appliedConfigVersion, version);
        return { status: 'SUCCEEDED', result: { appliedVersion: version } };
      }
      case 'GET_STATUS':
        return {
          status: 'SUCCEEDED',
          result: { firmwareVersion: dongle.firmwareVersion, appliedConfigVersion: dongle.appliedConfigVersion, capturing: dongle.capturing, framesSent: dongle.framesSent },
        };
      case 'START_CAPTURE':
        dongle.capturing = true;
        return { status: 'SUCCEEDED', result: { ok: true } };
      case 'STOP_CAPTURE':
        dongle.capturing = false;
        return { status: 'SUCCEEDED', result: { ok: true } };
      default:
        return { status: 'SUCCEEDED', result: { ok: true } };
    }
  }

  /** Runs the heartbeat and poll loops until stop(). Transient failures back off and retry. */
  start(): void {
    if (this.controller) return;
    const controller = (this.controller = new AbortController());
    const { signal } = controller;
    const loop = async (name: string, step: () => Promise<unknown>, pauseMs: () => number) => {
      let backoff = 500;
      while (!signal.aborted) {
        try {
          await step();
          backoff = 500;
          const pause = pauseMs();
          if (pause > 0) await sleep(pause, undefined, { signal }).catch(() => undefined);
        } catch (error) {
          if (signal.aborted) return;
          if (error instanceof ApiError && error.status === 401) {
            this.log(`${name}: the server refused our token (revoked?); stopping`);
            controller.abort();
            return;
          }
          this.log(`${name} failed (${(error as Error).message}); retrying in ${backoff} ms`);
          await sleep(backoff, undefined, { signal }).catch(() => undefined);
          backoff = Math.min(backoff * 2, 30_000);
        }
      }
    };
    this.loops = [
      loop('heartbeat', () => this.heartbeat(), () => this.heartbeatIntervalMs ?? 30_000),
      loop('poll', () => this.pollOnce(undefined, signal), () => 0),
    ];
  }

  async stop(): Promise<void> {
    this.controller?.abort();
    await Promise.allSettled(this.loops);
    this.controller = undefined;
    this.loops = [];
  }
}
