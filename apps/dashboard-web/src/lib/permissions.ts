// What a role may do in an organization, to hide or disable what the member's role may not do.
// The server decides (a 403 still comes back as a sentence); this only spares people buttons
// that cannot work. The table is the API's own (role-rules.ts imports nothing, so the browser
// build takes it as it is), as lib/event-types.ts takes the event type names.
import type { OrgRole } from '../../../dashboard-api/src/features/organizations/role-rules.ts';

export { atLeast, may, scopesFor, type Permission } from '../../../dashboard-api/src/features/organizations/role-rules.ts';

export const roleLabel: Record<OrgRole, string> = { owner: 'Owner', admin: 'Admin', operator: 'Operator', viewer: 'Viewer' };
