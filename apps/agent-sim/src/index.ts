// The simulator's core, for end-to-end tests and scripts.
export { AgentClient, ApiError, type AgentCommand, type CommandResult, type HeartbeatAnswer } from './agent-client.ts';
export { AgentSimulator, deviceIdsFor, type SimulatedDongle, type SimulatorOptions } from './simulator.ts';
export { performUpdate, type FirmwarePayload, type UpdateRecord } from './firmware-update.ts';
