// A group needs both of its dongles: when one leaves (release, force-release) the group goes.
// Lives with the dongles (whose ownership ends here), so groups depend on dongles, never back.
import type { Tx } from '../../platform/database.ts';
import { recordAudit, type Actor, type RequestContext } from '../../platform/audit/audit-writer.ts';

/** Deletes the group the dongle is in, if any, with its audit row. Returns the group id. */
export async function dissolveGroupOf(tx: Tx, dongleId: string, audit: { actor: Actor; reason: string; context?: RequestContext }): Promise<string | null> {
  const membership = await tx.dongleGroupMember.findUnique({ where: { dongleId }, select: { groupId: true } });
  if (!membership) return null;
  const group = await tx.dongleGroup.delete({ where: { id: membership.groupId } });
  await recordAudit(tx, {
    actor: audit.actor,
    action: 'group.delete',
    targetType: 'dongle_group',
    targetId: group.id,
    details: { reason: audit.reason, dongleAId: group.dongleAId, dongleBId: group.dongleBId },
    context: audit.context,
  });
  return group.id;
}
