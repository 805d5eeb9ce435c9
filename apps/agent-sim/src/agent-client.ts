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
  chipFamily?: string;
  boardRevision?: string;
}

export interface HeartbeatAnswer {
  pollIntervalSeconds: number;
  dongles: { deviceId: string; state: 'CLAIM_PENDING' | 'CLAIMED_ACTIVE' | 'RELEASE_PENDING' }[];
}

export interface AgentCommand {
  id: string;
  dongleId: string;
  deviceId: string;
  type: 'PING' | 'GET_STATUS' | 'REBOOT' | 'SEND_FRAME' | 'APPLY_CAN_CONFIG' | 'START_CAPTURE' | 'STOP_CAPTURE' | 'FIRMWARE_UPDATE';
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

  /**
   * One byte range of a firmware image (the agent route answers 206 with Content-Range), or the
   * whole image without `range`. Returns the bytes and the total size the server announced.
   */
  async downloadFirmware(path: string, range?: { start: number; end: number }): Promise<{ bytes: Buffer; total: number; status: number }> {
    if (!this.token) throw new Error('not enrolled: no agent token');
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}` };
    if (range) headers.range = `bytes=${range.start}-${range.end}`;
    const res = await fetch(new URL(path, this.baseUrl), { headers });
    if (!res.ok) {
      const text = await res.text();
      const error = (text ? (JSON.parse(text) as { error?: { code?: string; message?: string } }) : {}).error;
      throw new ApiError(res.status, error?.code ?? 'http_error', error?.message ?? res.statusText);
    }
    const bytes = Buffer.from(await res.arrayBuffer());
    const contentRange = res.headers.get('content-range');
    const total = contentRange ? Number(contentRange.split('/')[1]) : bytes.length;
    return { bytes, total, status: res.status };
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
