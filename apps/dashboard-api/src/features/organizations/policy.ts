// The one place that answers "may a member with this role do this?" (issue 12). Routes name a
// permission in their spec (`permission: 'fleet.operate'`); the organization guard
// (org-scope.ts) resolves the caller's role in the addressed organization and asks `may()`.
// doc/organizations.md shows this table; test/http/org-matrix.test.ts walks every route of it.
import type { ApiKeyScope, OrgRole } from '../../generated/prisma/enums.ts';

export const ORG_ROLES = ['owner', 'admin', 'operator', 'viewer'] as const satisfies readonly OrgRole[];

/** Stronger roles first; a role may everything a weaker one may. */
const RANK: Record<OrgRole, number> = { viewer: 0, operator: 1, admin: 2, owner: 3 };

/** Each permission and the weakest role that holds it. */
export const PERMISSIONS = {
  /** Read everything of the organization: agents, dongles, groups, CAN configs, commands, members. */
  'fleet.read': 'viewer',
  /** Claim, release, name, group, configure and command dongles. */
  'fleet.operate': 'operator',
  /** Enroll (enrollment codes), rename and delete agents. */
  'agents.manage': 'admin',
  /** Invite, change roles of and remove members; manage other members' API keys; webhooks. */
  'members.manage': 'admin',
  /** Register and revoke the Ed25519 keys firmware images are signed with (fleet jobs). */
  'signing_keys.manage': 'admin',
  /** Read the organization's audit log. */
  'audit.read': 'admin',
  /** Rename or delete the organization, transfer ownership. */
  'organization.own': 'owner',
} as const satisfies Record<string, OrgRole>;

export type Permission = keyof typeof PERMISSIONS;

// Routes name these permissions in their spec (platform/http/openapi.ts reads the names from here).
declare module '../../platform/http/openapi.ts' {
  interface PermissionRegistry extends Record<keyof typeof PERMISSIONS, true> {}
}

export function may(role: OrgRole, permission: Permission): boolean {
  return RANK[role] >= RANK[PERMISSIONS[permission]];
}

/** The same rule in SQL: the membership row `alias` holds `permission` (for notifications, enrollment). */
export function holdsSql(alias: string, permission: Permission): string {
  return `${alias}.role IN (${ORG_ROLES.filter((role) => may(role, permission)).map((role) => `'${role}'`).join(', ')})`;
}

export const atLeast = (role: OrgRole, than: OrgRole) => RANK[role] >= RANK[than];

/** The role an API key scope stands for. */
export const SCOPE_ROLE: Record<ApiKeyScope, OrgRole> = { read: 'viewer', operate: 'operator', admin: 'admin' };

/** A key acts with the weaker of its scope and its user's current role (a demotion bites at once). */
export function effectiveRole(memberRole: OrgRole, scope: ApiKeyScope | null): OrgRole {
  if (!scope) return memberRole;
  const capped = SCOPE_ROLE[scope];
  return RANK[capped] < RANK[memberRole] ? capped : memberRole;
}

/** The strongest scope a member of this role may give a key. */
export function maxScopeFor(role: OrgRole): ApiKeyScope | null {
  if (atLeast(role, 'admin')) return 'admin';
  if (atLeast(role, 'operator')) return 'operate';
  return 'read';
}

export const scopeAllowed = (role: OrgRole, scope: ApiKeyScope) => atLeast(role, SCOPE_ROLE[scope]);
