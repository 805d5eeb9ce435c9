// The agent side of the API (spec §4, "Agent"), on the typed client generated from the server's
// OpenAPI document (@fleet/api-client). What a real desktop agent does: bearer token, JSON in
// and out, errors in the §3 shape. Every call's path, body and answer is checked against the
// contract at compile time, so this simulator proves the agent API by its own contract.
import { ApiError, createApiClient, unwrap, type ApiClient, type paths } from '@fleet/api-client';

export { ApiError };

type Json<T> = T extends { content: { 'application/json': infer Body } } ? Body : never;
type AgentPaths = paths;

export type EnrollInfo = Omit<NonNullable<AgentPaths['/api/agent/enroll']['post']['requestBody']>['content']['application/json'], 'code'>;
export type HeartbeatDongle = NonNullable<AgentPaths['/api/agent/heartbeat']['post']['requestBody']>['content']['application/json']['dongles'][number];
export type HeartbeatAnswer = Json<AgentPaths['/api/agent/heartbeat']['post']['responses'][200]>;
export type AgentCommand = Json<AgentPaths['/api/agent/commands']['get']['responses'][200]>['commands'][number];
export type CommandResult = NonNullable<AgentPaths['/api/agent/commands/{id}/result']['post']['requestBody']>['content']['application/json'];

export class AgentClient {
  private readonly api: ApiClient;

  constructor(
    readonly baseUrl: string,
    public token?: string,
  ) {
    this.api = createApiClient(baseUrl, { token: () => this.token });
  }

  /** Redeems a one-time enrollment code; keeps the bearer token for the calls that follow. */
  async enroll(code: string, info: EnrollInfo): Promise<{ agentId: string; token: string }> {
    const enrolled = await unwrap(this.api.POST('/api/agent/enroll', { body: { code, ...info } }));
    this.token = enrolled.token;
    return enrolled;
  }

  heartbeat(version: string, dongles: HeartbeatDongle[]): Promise<HeartbeatAnswer> {
    return unwrap(this.api.POST('/api/agent/heartbeat', { body: { version, dongles }, ...this.authenticated() }));
  }

  /** Long-poll: resolves with the commands now DELIVERED to this agent (possibly none). */
  async poll(waitSeconds: number, signal?: AbortSignal): Promise<AgentCommand[]> {
    const answer = await unwrap(this.api.GET('/api/agent/commands', { params: { query: { wait: waitSeconds } }, ...this.authenticated(), ...(signal ? { signal } : {}) }));
    return answer.commands;
  }

  postResult(commandId: string, result: CommandResult): Promise<unknown> {
    return unwrap(this.api.POST('/api/agent/commands/{id}/result', { params: { path: { id: commandId } }, body: result, ...this.authenticated() }));
  }

  /** The token exchange: the dongle's secret, which the agent writes into the dongle. */
  exchangeDongleToken(deviceId: string): Promise<{ token: string }> {
    return unwrap(this.api.POST('/api/agent/dongles/{deviceId}/token', { params: { path: { deviceId } }, ...this.authenticated() }));
  }

  ackDongleToken(deviceId: string): Promise<{ deviceId: string; state: string }> {
    return unwrap(this.api.POST('/api/agent/dongles/{deviceId}/token/ack', { params: { path: { deviceId } }, ...this.authenticated() }));
  }

  ackDongleRelease(deviceId: string): Promise<{ deviceId: string; state: string }> {
    return unwrap(this.api.POST('/api/agent/dongles/{deviceId}/release/ack', { params: { path: { deviceId } }, ...this.authenticated() }));
  }

  /** Calls after enrollment need the token; fail here rather than send a request bound to be a 401. */
  private authenticated(): object {
    if (!this.token) throw new Error('not enrolled: no agent token');
    return {};
  }
}
