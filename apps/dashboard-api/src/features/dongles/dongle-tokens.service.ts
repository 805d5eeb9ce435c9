// Agent side of the claim protocol:
//   token exchange  – the owner's agent that reports the dongle gets its secret (created on the
//                     first exchange, stored AES-256-GCM encrypted) to write onto the dongle;
//   token ack       – the dongle stored it: CLAIM_PENDING → CLAIMED_ACTIVE;
//   release ack     – the dongle wiped it: RELEASE_PENDING → UNCLAIMED, token row destroyed.
// Another user's agent, or a dongle nobody owns, is a 404.
import type { Database } from '../../platform/database.ts';
import { AppError, conflict } from '../../platform/errors.ts';
import { recordAudit, type RequestContext } from '../../platform/audit/audit-writer.ts';
import { recordEvent } from '../../platform/events/event-writer.ts';
import type { AgentPrincipal } from '../auth/principal.ts';
import { lockOrgDongle } from './dongle-lock.ts';
import { assertTransition, TOKEN_EXCHANGE_STATES, TRANSITIONS } from './dongle-state.ts';
import { stripOwnership, type CancelCommands } from './ownership-end.ts';
import { rowToSealed, sealedToRow } from './sealed-rows.ts';
import { generateDongleToken, TokenDecryptError, UnknownKeyVersionError, type DongleTokenKeyRing } from './token-crypto.ts';

/** A row that does not decrypt (tampered, or its key left the ring) is our fault, and a loud one. */
function openToken(ring: DongleTokenKeyRing, dongleId: string, row: Parameters<typeof rowToSealed>[0]): Buffer {
  try {
    return ring.decrypt(dongleId, rowToSealed(row));
  } catch (error) {
    if (error instanceof TokenDecryptError || error instanceof UnknownKeyVersionError) {
      throw new AppError(500, 'dongle_token_unreadable', "The dongle's stored token cannot be decrypted; an administrator must force-release the dongle.");
    }
    throw error;
  }
}

export type DongleTokensService = ReturnType<typeof createDongleTokensService>;

export function createDongleTokensService(deps: { db: Database; keyRing: () => DongleTokenKeyRing; cancelCommands: CancelCommands }) {
  const { prisma } = deps.db;

  return {
    /** 200 {token}: the dongle's 32-byte secret as 64 hex characters. */
    async exchange(agent: AgentPrincipal, deviceId: string, context: RequestContext): Promise<{ token: string }> {
      return prisma.$transaction(async (tx) => {
        const dongle = await lockOrgDongle(tx, agent.organizationId, { deviceId });
        if (!TOKEN_EXCHANGE_STATES.includes(dongle.state)) {
          throw conflict('invalid_state', `The dongle is ${dongle.state}; the token exchange needs ${TOKEN_EXCHANGE_STATES.join(' or ')}.`);
        }
        if (dongle.lastSeenAgentId !== agent.id || !dongle.reportedRecently) {
          throw conflict('dongle_not_reported', 'This agent has not reported the dongle in the last 5 minutes; send a heartbeat listing it first.');
        }
        const ring = deps.keyRing();
        let sealed = await tx.dongleToken.findUnique({ where: { dongleId: dongle.id } });
        const created = !sealed;
        if (!sealed) {
          sealed = await tx.dongleToken.create({ data: { dongleId: dongle.id, ...sealedToRow(ring.encrypt(dongle.id, generateDongleToken())) } });
        }
        const token = openToken(ring, dongle.id, sealed);
        await recordAudit(tx, {
          actor: { type: 'agent', id: agent.id },
          action: 'dongle.token.exchange',
          targetType: 'dongle',
          targetId: dongle.id,
          details: { deviceId, state: dongle.state, created, keyVersion: sealed.keyVersion },
          context,
        });
        return { token: token.toString('hex') };
      });
    },

    /** CLAIM_PENDING → CLAIMED_ACTIVE. A repeat once active is a 200 without a change (agents retry). */
    async ackToken(agent: AgentPrincipal, deviceId: string, context: RequestContext) {
      return prisma.$transaction(async (tx) => {
        const dongle = await lockOrgDongle(tx, agent.organizationId, { deviceId });
        if (dongle.state === TRANSITIONS.token_ack.to) return { deviceId, state: dongle.state };
        const to = assertTransition('token_ack', dongle.state);
        const token = await tx.dongleToken.findUnique({ where: { dongleId: dongle.id }, select: { id: true } });
        if (!token) throw conflict('token_not_exchanged', 'The dongle has no token yet; exchange it first.');
        await tx.dongle.update({ where: { id: dongle.id }, data: { ownershipState: to } });
        await recordAudit(tx, { actor: { type: 'agent', id: agent.id }, action: 'dongle.token.ack', targetType: 'dongle', targetId: dongle.id, details: { deviceId, from: dongle.state, to }, context });
        await recordEvent(tx, { organizationId: agent.organizationId, type: 'dongle.state_changed', subjectId: dongle.id, data: { deviceId, from: dongle.state, to } });
        return { deviceId, state: to };
      });
    },

    /** RELEASE_PENDING → UNCLAIMED: owner cleared, token row destroyed (with configuration and name). */
    async ackRelease(agent: AgentPrincipal, deviceId: string, context: RequestContext) {
      return prisma.$transaction(async (tx) => {
        const dongle = await lockOrgDongle(tx, agent.organizationId, { deviceId });
        const to = assertTransition('release_ack', dongle.state);
        const actor = { type: 'agent', id: agent.id } as const;
        const stripped = await stripOwnership(tx, deps.cancelCommands, dongle.id, { actor, reason: 'dongle_released', context });
        await recordAudit(tx, {
          actor,
          action: 'dongle.release.ack',
          targetType: 'dongle',
          targetId: dongle.id,
          details: { deviceId, from: dongle.state, to, previousOwnerUserId: dongle.ownerUserId, keyMaterialDestroyed: stripped.keyMaterialDestroyed, commandsCancelled: stripped.commandsCancelled },
          context,
        });
        await recordEvent(tx, { organizationId: agent.organizationId, type: 'dongle.state_changed', subjectId: dongle.id, data: { deviceId, from: dongle.state, to } });
        return { deviceId, state: to };
      });
    },
  };
}
