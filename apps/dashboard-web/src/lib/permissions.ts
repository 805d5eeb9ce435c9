// What a role may do in an organization, to hide or disable what the member's role may not do.
// The server decides (a 403 still comes back as a sentence); this only spares people buttons
// that cannot work. A copy of the API's policy table (dashboard-api/src/features/organizations/
// policy.ts, which imports Prisma types the browser build must not see); the API test
// `web-permissions.test.ts` fails when the two disagree.
// Self-contained (no import of api.ts) so the API's test can load it under Node.
type OrgRole = 'owner' | 'admin' | 'operator' | 'viewer';
type ApiKeyScope = 'read' | 'operate' | 'admin';

const RANK: Record<OrgRole, number> = { viewer: 0, operator: 1, admin: 2, owner: 3 };

export const PERMISSIONS = {
  'fleet.read': 'viewer',
  'fleet.operate': 'operator',
  'agents.manage': 'admin',
  'members.manage': 'admin',
  'signing_keys.manage': 'admin',
  'audit.read': 'admin',
  'organization.own': 'owner',
} as const satisfies Record<string, OrgRole>;

export type Permission = keyof typeof PERMISSIONS;

export const may = (role: OrgRole, permission: Permission) => RANK[role] >= RANK[PERMISSIONS[permission]];
export const atLeast = (role: OrgRole, than: OrgRole) => RANK[role] >= RANK[than];

/** The API key scopes a member of this role may create (scope stands for viewer/operator/admin). */
export function scopesFor(role: OrgRole): ApiKeyScope[] {
  if (atLeast(role, 'admin')) return ['read', 'operate', 'admin'];
  if (atLeast(role, 'operator')) return ['read', 'operate'];
  return ['read'];
}

export const roleLabel: Record<OrgRole, string> = { owner: 'Owner', admin: 'Admin', operator: 'Operator', viewer: 'Viewer' };
