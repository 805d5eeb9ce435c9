// What an ownership takes with it when it ends (release, its ack, force-release, claim lapse), in
// the transaction that ends it. Queued commands are the commands feature's: its cancel is handed
// in by app.ts (`CancelCommands`), so dongles never import commands, which import dongle-state.ts
// for the commandable state. A command never outlives the ownership it was created under.
import type { Tx } from '../../platform/database.ts';
import type { Actor, RequestContext } from '../../platform/audit/audit-writer.ts';
import { TRANSITIONS, type Transition } from './dongle-state.ts';
import { dissolveGroupOf } from './group-exit.ts';

/** Why an ownership ended: the reason on every command it cancels. */
export type OwnershipEnd = 'dongle_released' | 'dongle_force_released' | 'claim_lapsed';

/**
 * Cancels every QUEUED command of `dongleIds`, with their audit rows and events, in `tx`; returns
 * how many (commands/command-queue.ts cancelQueuedCommands).
 */
export type CancelCommands = (tx: Tx, dongleIds: string[], audit: { actor: Actor; reason: OwnershipEnd; context?: RequestContext }) => Promise<number>;

/** The ownership transition each stripping reason applies (its target state is the table's). */
const END_OF: Record<'dongle_released' | 'dongle_force_released', Transition> = { dongle_released: 'release_ack', dongle_force_released: 'force_release' };

/** What a dongle leaving its owner takes with it: queued commands, group, token, configuration, name. */
export async function stripOwnership(
  tx: Tx,
  cancelCommands: CancelCommands,
  dongleId: string,
  audit: { actor: Actor; reason: 'dongle_released' | 'dongle_force_released'; context?: RequestContext },
) {
  const commandsCancelled = await cancelCommands(tx, [dongleId], audit);
  const groupId = await dissolveGroupOf(tx, dongleId, audit);
  const token = await tx.dongleToken.deleteMany({ where: { dongleId } });
  // The next owner starts from the defaults, not from the previous owner's bus settings.
  await tx.canConfig.deleteMany({ where: { dongleId } });
  await tx.dongle.update({ where: { id: dongleId }, data: { ownershipState: TRANSITIONS[END_OF[audit.reason]].to, ownerUserId: null, organizationId: null, name: null } });
  return { groupId, keyMaterialDestroyed: token.count > 0, commandsCancelled };
}
