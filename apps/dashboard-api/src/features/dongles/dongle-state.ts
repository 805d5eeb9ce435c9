// The dongle ownership state machine (doc/fleet.md has the table) and the two rules every path
// that touches a dongle shares. Each transition is a row of TRANSITIONS, used by every path that
// applies it: the row-at-a-time paths call assertTransition while the dongle row is locked (an
// illegal transition is a 409, never an overwrite); the set-based ones (the claim's conditional
// UPDATE, the claim lapse's batch) put the row's states into their SQL with stateSql().
import type { OwnershipState } from '../../generated/prisma/enums.ts';
import { conflict } from '../../platform/errors.ts';

export type Transition = 'claim' | 'token_ack' | 'release' | 'release_ack' | 'force_release' | 'claim_lapse';

export const TRANSITIONS: Record<Transition, { from: readonly OwnershipState[]; to: OwnershipState; by: string }> = {
  claim: { from: ['UNCLAIMED'], to: 'CLAIM_PENDING', by: 'operator, with proof of possession' },
  token_ack: { from: ['CLAIM_PENDING'], to: 'CLAIMED_ACTIVE', by: "owner's agent, after the token exchange" },
  release: { from: ['CLAIM_PENDING', 'CLAIMED_ACTIVE'], to: 'RELEASE_PENDING', by: 'owner' },
  release_ack: { from: ['RELEASE_PENDING'], to: 'UNCLAIMED', by: "owner's agent, after the dongle wiped its token" },
  force_release: { from: ['CLAIM_PENDING', 'CLAIMED_ACTIVE', 'RELEASE_PENDING'], to: 'UNCLAIMED', by: 'admin' },
  claim_lapse: { from: ['CLAIM_PENDING'], to: 'UNCLAIMED', by: 'system, after CLAIM_PENDING_TIMEOUT_MINUTES' },
};

export function assertTransition(transition: Transition, current: OwnershipState): OwnershipState {
  const rule = TRANSITIONS[transition];
  if (!rule.from.includes(current)) {
    throw conflict('invalid_state', `The dongle is ${current}; ${transition.replace('_', ' ')} needs ${rule.from.join(' or ')}.`);
  }
  return rule.to;
}

/**
 * Where the owner's agent may fetch the dongle's token: from the claim until the dongle is active
 * (token_ack's from and to; a repeat once active is allowed, agents retry).
 */
export const TOKEN_EXCHANGE_STATES: readonly OwnershipState[] = [...TRANSITIONS.token_ack.from, TRANSITIONS.token_ack.to];

const literal = (state: OwnershipState) => `'${state}'::ownership_state`;

/** A transition's states as SQL literals (from the table, never from input): `IN (${from})`, `= ${to}`. */
export function stateSql(transition: Transition): { from: string; to: string } {
  const rule = TRANSITIONS[transition];
  return { from: rule.from.map(literal).join(', '), to: literal(rule.to) };
}

/** The one state in which a dongle takes commands, a CAN configuration and a group pairing. */
export const COMMANDABLE_STATE = 'CLAIMED_ACTIVE' satisfies OwnershipState;
export const COMMANDABLE_STATE_SQL = literal(COMMANDABLE_STATE);

/** 409 dongle_not_active unless the dongle can receive commands; `refusal` says what was refused. */
export function assertCommandable(state: string, refusal: string): void {
  if (state !== COMMANDABLE_STATE) throw conflict('dongle_not_active', refusal);
}

/**
 * How recently an agent must have reported a dongle: proof of possession for a claim and a
 * token exchange, reachability for the command hand-out, "online" in the fleet metrics (§4).
 */
export const REPORT_WINDOW_SECONDS = 5 * 60;

/** The report window in SQL over the dongles row `alias`, by the database clock. */
export const reportedRecentlySql = (alias: string): string => `${alias}.last_seen_at > now() - make_interval(secs => ${REPORT_WINDOW_SECONDS})`;
