// The operator side: send a command, read history, read one, cancel.
//
// Who sees a command: the members of its organization (commands.organization_id, the dongle's
// organization when it was queued). A dongle released and claimed by another organization
// therefore never shows it the frames the previous one sent. Everyone else gets 404.
import { Prisma } from '../../generated/prisma/client.ts';
import type { Command, CommandStatus } from '../../generated/prisma/client.ts';
import type { Database } from '../../platform/database.ts';
import { conflict, notFound } from '../../platform/errors.ts';
import { createOncePerKey, type IdempotencyClaim } from '../../platform/http/idempotency.ts';
import { fleetCounters } from '../../platform/metrics.ts';
import { decodeCursor, keysetAfter, toPage, type Page } from '../../platform/pagination.ts';
import { recordAudit, type RequestContext } from '../../platform/audit/audit-writer.ts';
import { recordEvent } from '../../platform/events/event-writer.ts';
import type { OrgScope } from '../organizations/org-scope.ts';
import type { CreateCommandBody } from './command-payloads.ts';
import { commandFromRow, enqueueCommand, type CommandRow } from './command-queue.ts';
import { expireOverdue } from './command-sweeper.ts';
import { canApply, overdueSql, statusTo } from './command-lifecycle.ts';

export interface CommandServiceDeps {
  db: Database;
  /** Execution timeout given to new commands (COMMAND_TIMEOUT_SECONDS). */
  timeoutSeconds: number;
  /** QUEUED commands one dongle may hold (QUOTA_QUEUED_COMMANDS_PER_DONGLE). */
  queuedLimit: number;
}

export interface ListOptions {
  status?: CommandStatus;
  limit: number;
  cursor?: string;
}

const visibleTo = (organizationId: string) => Prisma.sql`c.organization_id = ${organizationId}::uuid`;

/**
 * One page of a dongle's history, newest first: keyset on (created_at, id) with the platform
 * cursor (pagination.ts), served by commands(dongle_id, created_at). `k` is created_at as text
 * (microseconds) for the next cursor. Exported for the scale bench's EXPLAIN.
 */
export function historyPageSql(organizationId: string, dongleId: string, options: ListOptions): Prisma.Sql {
  const position = options.cursor ? decodeCursor(options.cursor) : undefined;
  // The redundant `created_at <=` bound lets the index range start at the cursor instead of
  // filtering from the newest row on every page.
  const after = position
    ? Prisma.sql`AND ${keysetAfter(position, { createdAt: 'c.created_at', id: 'c.id' })}
                 AND c.created_at <= ${position.createdAt}::timestamptz`
    : Prisma.empty;
  const status = options.status ? Prisma.sql`AND c.status = ${options.status}::command_status` : Prisma.empty;
  return Prisma.sql`
    SELECT c.*, c.created_at::text AS k FROM commands c
     WHERE c.dongle_id = ${dongleId}::uuid AND ${visibleTo(organizationId)} ${status} ${after}
     ORDER BY c.created_at DESC, c.id DESC
     LIMIT ${options.limit + 1}`;
}

export function createCommandService(deps: CommandServiceDeps) {
  const { db } = deps;

  /**
   * With an Idempotency-Key, the command is created at most once per key: the key's row is
   * locked and names the command it created, in this transaction (createOncePerKey). A retry
   * after a crash between this commit and the stored response gets the same command back.
   */
  async function create(scope: OrgScope, dongleId: string, body: CreateCommandBody, options: { idempotency?: IdempotencyClaim; context: RequestContext }): Promise<Command> {
    return db.prisma.$transaction((tx) =>
      createOncePerKey(tx, options.idempotency, {
        existing: async (commandId) => {
          const [row] = await tx.$queryRaw<CommandRow[]>`SELECT * FROM commands WHERE id = ${commandId}::uuid`;
          if (!row) throw notFound('Command');
          return commandFromRow(row);
        },
        create: () =>
          enqueueCommand(tx, {
            dongleId,
            type: body.type,
            payload: body.payload,
            createdByUserId: scope.userId,
            organizationId: scope.orgId,
            ttlSeconds: body.ttlSeconds,
            timeoutSeconds: deps.timeoutSeconds,
            context: options.context,
            queuedLimit: deps.queuedLimit,
          }),
      }),
    );
  }

  /** Newest first; keyset pagination on (created_at, id), served by commands(dongle_id, created_at). */
  async function listForDongle(scope: OrgScope, dongleId: string, options: ListOptions): Promise<Page<Command>> {
    const owned = await db.prisma.dongle.findFirst({ where: { id: dongleId, organizationId: scope.orgId }, select: { id: true } });
    if (!owned) throw notFound('Dongle');
    const rows = await db.prisma.$queryRaw<(CommandRow & { k: string })[]>(historyPageSql(scope.orgId, dongleId, options));
    return toPage(rows, options.limit, commandFromRow);
  }

  async function get(scope: OrgScope, commandId: string): Promise<Command> {
    const [row] = await db.prisma.$queryRaw<CommandRow[]>`
      SELECT c.* FROM commands c WHERE c.id = ${commandId}::uuid AND ${visibleTo(scope.orgId)}`;
    if (!row) throw notFound('Command');
    return commandFromRow(row);
  }

  /** Only a QUEUED command can be cancelled; one already overdue is marked EXPIRED instead (409). */
  async function cancel(scope: OrgScope, commandId: string, context: RequestContext): Promise<Command> {
    const userId = scope.userId;
    const outcome = await db.prisma.$transaction(async (tx) => {
      const [row] = await tx.$queryRaw<(CommandRow & { overdue: boolean })[]>`
        SELECT c.*, ${Prisma.raw(overdueSql('expire', 'c'))} AS overdue FROM commands c
         WHERE c.id = ${commandId}::uuid AND ${visibleTo(scope.orgId)} FOR UPDATE OF c`;
      if (!row) return { kind: 'not_found' as const };
      if (!canApply('cancel', row.status)) return { kind: 'conflict' as const, status: row.status };
      if (row.overdue) {
        await expireOverdue(tx, commandId);
        return { kind: 'conflict' as const, status: 'EXPIRED' };
      }
      const [updated] = await tx.$queryRaw<CommandRow[]>`
        UPDATE commands SET status = ${Prisma.raw(statusTo('cancel'))}, completed_at = now(), updated_at = now()
         WHERE id = ${commandId}::uuid RETURNING *`;
      await recordEvent(tx, { organizationId: row.organization_id, type: 'command.cancelled', subjectId: commandId, data: { dongleId: row.dongle_id, type: row.type } });
      await recordAudit(tx, { actor: { type: 'user', id: userId }, action: 'command.cancel', targetType: 'command', targetId: commandId, details: { dongleId: row.dongle_id, type: row.type }, context });
      return { kind: 'cancelled' as const, command: commandFromRow(updated!) };
    });
    if (outcome.kind === 'not_found') throw notFound('Command');
    if (outcome.kind === 'cancelled') fleetCounters.commandsFinished.inc({ type: outcome.command.type, status: 'CANCELLED' });
    if (outcome.kind === 'conflict') throw conflict('command_not_cancellable', `Only a QUEUED command can be cancelled; this one is ${outcome.status}.`);
    return outcome.command;
  }

  return { create, listForDongle, get, cancel };
}

export type CommandService = ReturnType<typeof createCommandService>;
