// The dongle ownership state machine (doc/fleet.md has the table). Every transition goes through
// assertTransition while the dongle row is locked, so an illegal one is a 409, never an overwrite.
import type { OwnershipState } from '../../generated/prisma/enums.ts';
import { conflict } from '../../platform/errors.ts';

export type Transition = 'claim' | 'token_ack' | 'release' | 'release_ack' | 'force_release';

export const TRANSITIONS: Record<Transition, { from: readonly OwnershipState[]; to: OwnershipState; by: string }> = {
  claim: { from: ['UNCLAIMED'], to: 'CLAIM_PENDING', by: 'operator, with proof of possession' },
  token_ack: { from: ['CLAIM_PENDING'], to: 'CLAIMED_ACTIVE', by: "owner's agent, after the token exchange" },
  release: { from: ['CLAIM_PENDING', 'CLAIMED_ACTIVE'], to: 'RELEASE_PENDING', by: 'owner' },
  release_ack: { from: ['RELEASE_PENDING'], to: 'UNCLAIMED', by: "owner's agent, after the dongle wiped its token" },
  force_release: { from: ['CLAIM_PENDING', 'CLAIMED_ACTIVE', 'RELEASE_PENDING'], to: 'UNCLAIMED', by: 'admin' },
};

export function assertTransition(transition: Transition, current: OwnershipState): OwnershipState {
  const rule = TRANSITIONS[transition];
  if (!rule.from.includes(current)) {
    throw conflict('invalid_state', `The dongle is ${current}; ${transition.replace('_', ' ')} needs ${rule.from.join(' or ')}.`);
  }
  return rule.to;
}
