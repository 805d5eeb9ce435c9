// A thin, typed HTTP client of the agent API (spec §4, "Agent"). It is what a real desktop
// agent would do: bearer token, JSON in and out, errors in the §3 shape.

export interface EnrollInfo {
  name: string;
  hostname: string;
  os: string;
  version: string;
}

export interface HeartbeatDongle {
  deviceId: string;
  firmwareVersion?: string;
}

export interface HeartbeatAnswer {
  pollIntervalSeconds: number;
  dongles: { deviceId: string; state: 'CLAIM_PENDING' | 'CLAIMED_ACTIVE' | 'RELEASE_PENDING' }[];
}

export interface AgentCommand {
  id: string;
  dongleId: string;
  deviceId: string;
  type: 'PING' | 'GET_STATUS' | 'REBOOT' | 'SEND_FRAME' | 'APPLY_CAN_CONFIG' | 'START_CAPTURE' | 'STOP_CAPTURE';
  payload: Record<string, unknown>;
  deliveredAt: string;
  resultDeadline: string;
}

export interface CommandResult {
  status: 'SUCCEEDED' | 'FAILED';
  result?: unknown;
  error?: string;
}

export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(`${status} ${code}: ${message}`);
  }
}

export class AgentClient {
  constructor(
    readonly baseUrl: string,
    public token?: string,
  ) {}

  /** Redeems a one-time enrollment code; keeps the bearer token for the calls that follow. */
  async enroll(code: string, info: EnrollInfo): Promise<{ agentId: string; token: string }> {
    const enrolled = await this.request<{ agentId: string; token: string }>('POST', '/api/agent/enroll', { code, ...info }, { auth: false });
    this.token = enrolled.token;
    return enrolled;
  }

  heartbeat(version: string, dongles: HeartbeatDongle[]): Promise<HeartbeatAnswer> {
    return this.request('POST', '/api/agent/heartbeat', { version, dongles });
  }

  /** Long-poll: resolves with the commands now DELIVERED to this agent (possibly none). */
  async poll(waitSeconds: number, signal?: AbortSignal): Promise<AgentCommand[]> {
    const answer = await this.request<{ commands: AgentCommand[] }>('GET', `/api/agent/commands?wait=${waitSeconds}`, undefined, { signal });
    return answer.commands;
  }

  postResult(commandId: string, result: CommandResult): Promise<unknown> {
    return this.request('POST', `/api/agent/commands/${commandId}/result`, result);
  }

  /** The token exchange: the dongle's secret, which the agent writes into the dongle. */
  exchangeDongleToken(deviceId: string): Promise<{ token: string }> {
    return this.request('POST', `/api/agent/dongles/${deviceId}/token`, {});
  }

  ackDongleToken(deviceId: string): Promise<{ deviceId: string; state: string }> {
    return this.request('POST', `/api/agent/dongles/${deviceId}/token/ack`, {});
  }

  ackDongleRelease(deviceId: string): Promise<{ deviceId: string; state: string }> {
    return this.request('POST', `/api/agent/dongles/${deviceId}/release/ack`, {});
  }

  private async request<T>(method: string, path: string, body?: unknown, options: { auth?: boolean; signal?: AbortSignal } = {}): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (options.auth !== false) {
      if (!this.token) throw new Error('not enrolled: no agent token');
      headers.authorization = `Bearer ${this.token}`;
    }
    const res = await fetch(new URL(path, this.baseUrl), { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: options.signal });
    const text = await res.text();
    const json = text ? (JSON.parse(text) as unknown) : undefined;
    if (!res.ok) {
      const error = (json as { error?: { code?: string; message?: string } } | undefined)?.error;
      throw new ApiError(res.status, error?.code ?? 'http_error', error?.message ?? res.statusText);
    }
    return json as T;
  }
}
