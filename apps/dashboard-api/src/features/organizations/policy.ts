// The one place that answers "may a member with this role do this?" (issue 12): the table and
// may() are in role-rules.ts (imported by the web build too), the server's uses of it here.
// Routes name a permission in their spec (`permission: 'fleet.operate'`); the organization guard
// (org-scope.ts) resolves the caller's role in the addressed organization and asks `may()`.
// doc/organizations.md shows this table; test/http/org-matrix.test.ts walks every route of it.
import type { ApiKeyScope as PrismaApiKeyScope, OrgRole as PrismaOrgRole } from '../../generated/prisma/enums.ts';
import { atLeast, ORG_ROLES, PERMISSIONS, may, SCOPE_ROLE, type ApiKeyScope, type OrgRole, type Permission } from './role-rules.ts';

export { atLeast, ORG_ROLES, PERMISSIONS, may, SCOPE_ROLE, scopeAllowed, type Permission } from './role-rules.ts';

// role-rules.ts spells the enums out (it imports nothing, for the web build): a compile error
// here when they and the schema's enums differ.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const enumsMatch: [Same<OrgRole, PrismaOrgRole>, Same<ApiKeyScope, PrismaApiKeyScope>] = [true, true];
void enumsMatch;

// Routes name these permissions in their spec (platform/http/openapi.ts reads the names from here).
declare module '../../platform/http/openapi.ts' {
  interface PermissionRegistry extends Record<keyof typeof PERMISSIONS, true> {}
}

/** The same rule in SQL: the membership row `alias` holds `permission` (for notifications, enrollment). */
export function holdsSql(alias: string, permission: Permission): string {
  return `${alias}.role IN (${ORG_ROLES.filter((role) => may(role, permission)).map((role) => `'${role}'`).join(', ')})`;
}

/** A key acts with the weaker of its scope and its user's current role (a demotion bites at once). */
export function effectiveRole(memberRole: OrgRole, scope: ApiKeyScope | null): OrgRole {
  if (!scope) return memberRole;
  const capped = SCOPE_ROLE[scope];
  return atLeast(memberRole, capped) ? capped : memberRole;
}
