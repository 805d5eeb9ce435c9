// The command lifecycle (doc/commands.md): every status change of a command is a row of this
// table, and every path that applies one takes its states from here — the hand-out and result
// statements, a member's cancel, the ownership-end cancel, the sweeper's expire and time-out.
// The statements are set-based (one conditional UPDATE decides races), so the table reaches them
// as SQL literals (statusIs); the row-at-a-time checks use canApply.
import type { CommandStatus } from '../../generated/prisma/enums.ts';

export type CommandTransition = 'deliver' | 'complete' | 'cancel' | 'expire' | 'time_out';

export const COMMAND_TRANSITIONS: Record<CommandTransition, { from: CommandStatus; to: readonly CommandStatus[]; by: string }> = {
  deliver: { from: 'QUEUED', to: ['DELIVERED'], by: "the hand-out to the agent that reports the dongle (a poll)" },
  complete: { from: 'DELIVERED', to: ['SUCCEEDED', 'FAILED'], by: 'the result of the agent it was delivered to, within its timeout' },
  cancel: { from: 'QUEUED', to: ['CANCELLED'], by: 'a member, the end of the ownership it was created under, or its job stopping' },
  expire: { from: 'QUEUED', to: ['EXPIRED'], by: 'the sweeper (or a request) once expires_at has passed' },
  time_out: { from: 'DELIVERED', to: ['TIMED_OUT'], by: 'the sweeper (or a request) once delivered_at + timeout_seconds has passed' },
};

/** Whether `transition` applies to a command in `status`. */
export const canApply = (transition: CommandTransition, status: string): boolean => COMMAND_TRANSITIONS[transition].from === status;

const literal = (status: CommandStatus) => `'${status}'::command_status`;

/** `<column> = '<from>'` for a transition's guard (an index-friendly equality, from the table). */
export const statusIs = (transition: CommandTransition, column = 'status'): string => `${column} = ${literal(COMMAND_TRANSITIONS[transition].from)}`;

/** The single target status of a transition, as a SQL literal (`complete` takes its target from the agent). */
export const statusTo = (transition: Exclude<CommandTransition, 'complete'>): string => literal(COMMAND_TRANSITIONS[transition].to[0]!);

/** The timer that drives a transition: a QUEUED command expires at expires_at, a DELIVERED one times out timeout_seconds after delivered_at. */
const timerEnd = (transition: 'expire' | 'time_out', c: string) => (transition === 'expire' ? `${c}expires_at` : `${c}delivered_at + make_interval(secs => ${c}timeout_seconds)`);
const prefix = (alias: string) => (alias ? `${alias}.` : '');

/** `expire` / `time_out` is due for the commands row `alias` (by the database clock). */
export const overdueSql = (transition: 'expire' | 'time_out', alias = ''): string => `${timerEnd(transition, prefix(alias))} <= now()`;

/** The opposite: its timer is still running (a QUEUED command may be handed out, a DELIVERED one may take its result). */
export const timerRunningSql = (transition: 'expire' | 'time_out', alias = ''): string => `${timerEnd(transition, prefix(alias))} > now()`;
