// Groups pair two CLAIMED_ACTIVE dongles of one organization (user_id keeps who made it). A dongle is in at most one group,
// whichever slot: the service checks it under row locks on both dongles, and the database
// (dongle_group_members, trigger-maintained, UNIQUE dongle_id; CHECK a <> b) settles anything
// that slips past, mapped to 409/422 here rather than a 500.
import { Prisma } from '../../generated/prisma/client.ts';
import type { Database, Tx } from '../../platform/database.ts';
import { conflict, notFound, unprocessable } from '../../platform/errors.ts';
import { inIdOrder, pageIds, type ListQuery, type Page } from '../../platform/pagination.ts';
import { changes, recordAudit, type RequestContext } from '../../platform/audit/audit-writer.ts';
import { recordEvent } from '../../platform/events/event-writer.ts';
import { lockOrgDongle } from '../dongles/dongle-lock.ts';
import type { OrgScope } from '../organizations/org-scope.ts';
import { presentGroup } from './groups.presenter.ts';
import type { CreateGroupBody, GroupView, UpdateGroupBody } from './groups.schemas.ts';
import { assertCommandable, COMMANDABLE_STATE } from '../dongles/dongle-state.ts';

export type GroupsService = ReturnType<typeof createGroupsService>;

const alreadyGrouped = () => conflict('dongle_already_grouped', 'A dongle of this pair is already in a group.');

/** PostgreSQL's SQLSTATE and constraint name, wherever Prisma's driver adapter put them. */
function pgError(error: unknown): { code?: string; constraint?: string } {
  for (let current: unknown = error, depth = 0; current && typeof current === 'object' && depth < 6; depth++) {
    const e = current as { code?: unknown; originalCode?: unknown; constraint?: unknown; meta?: unknown; cause?: unknown; message?: unknown };
    if (typeof e.originalCode === 'string') return { code: e.originalCode, constraint: typeof e.constraint === 'string' ? e.constraint : JSON.stringify(e.constraint ?? '') };
    if (typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code) && !e.code.startsWith('P')) return { code: e.code, constraint: typeof e.constraint === 'string' ? e.constraint : undefined };
    const meta = e.meta as { driverAdapterError?: unknown } | undefined;
    current = meta?.driverAdapterError ?? e.cause;
  }
  return {};
}

/** Unique violation (a dongle already grouped, in a race) → 409; CHECK a <> b → 422. */
export function mapConstraintViolation(error: unknown): unknown {
  if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') return alreadyGrouped();
  const { code, constraint } = pgError(error);
  if (code === '23505') return alreadyGrouped();
  if (code === '23514' || constraint?.includes('dongle_groups_distinct_dongles')) {
    return unprocessable('The request is not valid.', [{ path: 'body.dongleBId', message: 'dongleBId must differ from dongleAId: a group pairs two dongles.' }]);
  }
  return error;
}

export function createGroupsService(deps: { db: Database }) {
  const { prisma } = deps.db;

  async function orgGroup(client: Tx | Database['prisma'], scope: OrgScope, id: string) {
    const group = await client.dongleGroup.findFirst({ where: { id, organizationId: scope.orgId } });
    if (!group) throw notFound('Group');
    return group;
  }

  return {
    async create(scope: OrgScope, input: CreateGroupBody, context: RequestContext): Promise<GroupView> {
      const user = { id: scope.userId };
      try {
        return await prisma.$transaction(async (tx) => {
          // Lock both dongles in id order: two creations sharing a dongle queue up, never deadlock.
          for (const id of [input.dongleAId, input.dongleBId].sort()) {
            const dongle = await lockOrgDongle(tx, scope.orgId, { id });
            assertCommandable(dongle.state, `Dongle ${dongle.deviceId} is ${dongle.state}; both dongles must be ${COMMANDABLE_STATE}.`);
          }
          const grouped = await tx.dongleGroupMember.count({ where: { dongleId: { in: [input.dongleAId, input.dongleBId] } } });
          if (grouped > 0) throw alreadyGrouped();
          const group = await tx.dongleGroup.create({
            data: { userId: user.id, organizationId: scope.orgId, dongleAId: input.dongleAId, dongleBId: input.dongleBId, mode: input.mode, name: input.name ?? null },
          });
          await recordAudit(tx, {
            actor: { type: 'user', id: user.id },
            action: 'group.create',
            targetType: 'dongle_group',
            targetId: group.id,
            details: { dongleAId: group.dongleAId, dongleBId: group.dongleBId, mode: group.mode },
            context,
          });
          await recordEvent(tx, { organizationId: scope.orgId, type: 'group.created', subjectId: group.id, data: { dongleAId: group.dongleAId, dongleBId: group.dongleBId, mode: group.mode, name: group.name } });
          return presentGroup(group);
        });
      } catch (error) {
        throw mapConstraintViolation(error);
      }
    },

    async list(scope: OrgScope, query: ListQuery): Promise<Page<GroupView>> {
      const page = await pageIds(prisma, 'dongle_groups', Prisma.sql`organization_id = ${scope.orgId}::uuid`, query);
      const rows = await prisma.dongleGroup.findMany({ where: { id: { in: page.ids } } });
      return { items: inIdOrder(page.ids, rows).map(presentGroup), nextCursor: page.nextCursor };
    },

    async get(scope: OrgScope, id: string): Promise<GroupView> {
      return presentGroup(await orgGroup(prisma, scope, id));
    },

    async update(scope: OrgScope, id: string, input: UpdateGroupBody, context: RequestContext): Promise<GroupView> {
      const user = { id: scope.userId };
      return prisma.$transaction(async (tx) => {
        // Only the organization's group is locked: another's id takes no lock and gets a 404.
        await tx.$queryRaw`SELECT id FROM dongle_groups WHERE id = ${id}::uuid AND organization_id = ${scope.orgId}::uuid FOR UPDATE`;
        const before = await orgGroup(tx, scope, id);
        const data = { mode: input.mode, name: input.name };
        const after = await tx.dongleGroup.update({ where: { id }, data });
        await recordAudit(tx, { actor: { type: 'user', id: user.id }, action: 'group.update', targetType: 'dongle_group', targetId: id, changes: changes(before, data), context });
        await recordEvent(tx, { organizationId: scope.orgId, type: 'group.updated', subjectId: id, data: { mode: after.mode, name: after.name } });
        return presentGroup(after);
      });
    },

    async remove(scope: OrgScope, id: string, context: RequestContext): Promise<void> {
      const user = { id: scope.userId };
      await prisma.$transaction(async (tx) => {
        const group = await orgGroup(tx, scope, id);
        const deleted = await tx.dongleGroup.deleteMany({ where: { id, organizationId: scope.orgId } });
        // A concurrent delete (or a release dissolving it) got there first.
        if (deleted.count === 0) throw notFound('Group');
        await recordAudit(tx, {
          actor: { type: 'user', id: user.id },
          action: 'group.delete',
          targetType: 'dongle_group',
          targetId: id,
          details: { reason: 'deleted', dongleAId: group.dongleAId, dongleBId: group.dongleBId },
          context,
        });
        await recordEvent(tx, { organizationId: scope.orgId, type: 'group.deleted', subjectId: id, data: { reason: 'deleted' } });
      });
    },
  };
}
