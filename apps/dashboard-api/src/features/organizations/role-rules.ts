// Who may do what in an organization: the role ranks, each permission's weakest role, and the
// API key scopes. No imports, so the web dashboard imports this very file to hide what a role
// may not do (apps/dashboard-web/src/lib/permissions.ts), as it does the event type names.
// policy.ts builds the server's rules (SQL, effective role of a key) on top of it.

/** The organization roles (Prisma's OrgRole enum; policy.ts checks they are the same). */
export type OrgRole = 'owner' | 'admin' | 'operator' | 'viewer';
/** The API key scopes (Prisma's ApiKeyScope enum). */
export type ApiKeyScope = 'read' | 'operate' | 'admin';

export const ORG_ROLES = ['owner', 'admin', 'operator', 'viewer'] as const satisfies readonly OrgRole[];
export const API_KEY_SCOPES = ['read', 'operate', 'admin'] as const satisfies readonly ApiKeyScope[];

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

export function may(role: OrgRole, permission: Permission): boolean {
  return RANK[role] >= RANK[PERMISSIONS[permission]];
}

export const atLeast = (role: OrgRole, than: OrgRole) => RANK[role] >= RANK[than];

/** The role an API key scope stands for. */
export const SCOPE_ROLE: Record<ApiKeyScope, OrgRole> = { read: 'viewer', operate: 'operator', admin: 'admin' };

/** A member of `role` may give a key `scope` (one no stronger than the role). */
export const scopeAllowed = (role: OrgRole, scope: ApiKeyScope) => atLeast(role, SCOPE_ROLE[scope]);

/** The key scopes a member of `role` may give, weakest first. */
export const scopesFor = (role: OrgRole): ApiKeyScope[] => API_KEY_SCOPES.filter((scope) => scopeAllowed(role, scope));
