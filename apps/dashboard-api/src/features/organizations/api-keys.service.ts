// API keys for scripts and CI: per user and organization, shown once, stored as SHA-256 only.
// A key's scope may not exceed its user's role when it is made, and at use time the guard caps
// it again by the user's CURRENT role (org-scope.ts), so a demotion bites at once and a removed
// member's keys stop at their next request (they are also revoked in the removal's transaction).
// Members manage their own keys; admins also list and revoke everyone's.
import type { ApiKey } from '../../generated/prisma/client.ts';
import type { Database } from '../../platform/database.ts';
import { forbidden, notFound } from '../../platform/errors.ts';
import { generateSecret, sha256Hex } from '../../platform/secrets.ts';
import { recordAudit, type RequestContext } from '../../platform/audit/audit-writer.ts';
import type { OrgScope } from './org-scope.ts';
import type { ApiKeyView, CreateApiKeyBody } from './organizations.schemas.ts';
import { may, scopeAllowed } from './policy.ts';

export type ApiKeysService = ReturnType<typeof createApiKeysService>;

const present = (key: ApiKey): ApiKeyView => ({
  id: key.id,
  userId: key.userId,
  name: key.name,
  scope: key.scope,
  prefix: key.prefix,
  expiresAt: key.expiresAt.toISOString(),
  lastUsedAt: key.lastUsedAt?.toISOString() ?? null,
  lastUsedIp: key.lastUsedIp,
  revokedAt: key.revokedAt?.toISOString() ?? null,
  createdAt: key.createdAt.toISOString(),
});

export function createApiKeysService(deps: { db: Database }) {
  const { prisma } = deps.db;

  return {
    async create(scope: OrgScope, input: CreateApiKeyBody, context: RequestContext) {
      // A key never mints keys: a leaked key must not be able to outlive its own revocation.
      if (scope.apiKeyId) throw forbidden('session_required', 'API keys are created from a logged-in session, not with another key.');
      if (!scopeAllowed(scope.role, input.scope)) throw forbidden('scope_exceeds_role', `Your role (${scope.role}) cannot give a key the ${input.scope} scope.`);
      const key = `fk_${generateSecret()}`;
      return prisma.$transaction(async (tx) => {
        const row = await tx.apiKey.create({
          data: {
            organizationId: scope.orgId,
            userId: scope.userId,
            name: input.name,
            scope: input.scope,
            prefix: key.slice(0, 10),
            keyHash: sha256Hex(key),
            expiresAt: new Date(Date.now() + input.expiresInDays * 24 * 3600_000),
          },
        });
        await recordAudit(tx, { actor: { type: 'user', id: scope.userId }, action: 'organization.api_key.create', targetType: 'api_key', targetId: row.id, details: { name: input.name, scope: input.scope, expiresAt: row.expiresAt.toISOString() }, context });
        return { ...present(row), key };
      });
    },

    /** My keys; an admin sees every member's. */
    async list(scope: OrgScope): Promise<ApiKeyView[]> {
      const everyone = may(scope.role, 'members.manage');
      const rows = await prisma.apiKey.findMany({ where: { organizationId: scope.orgId, ...(everyone ? {} : { userId: scope.userId }) }, orderBy: { createdAt: 'desc' }, take: 500 });
      return rows.map(present);
    },

    /** My own key, or (admin) anyone's; someone else's key without the right is a 404. */
    async revoke(scope: OrgScope, id: string, context: RequestContext): Promise<ApiKeyView> {
      return prisma.$transaction(async (tx) => {
        const key = await tx.apiKey.findFirst({ where: { id, organizationId: scope.orgId } });
        if (!key || (key.userId !== scope.userId && !may(scope.role, 'members.manage'))) throw notFound('API key');
        const row = key.revokedAt ? key : await tx.apiKey.update({ where: { id }, data: { revokedAt: new Date() } });
        if (!key.revokedAt) {
          await recordAudit(tx, { actor: { type: 'user', id: scope.userId }, action: 'organization.api_key.revoke', targetType: 'api_key', targetId: id, details: { ownerUserId: key.userId, name: key.name }, context });
        }
        return present(row);
      });
    },
  };
}
