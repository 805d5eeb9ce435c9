// The web dashboard hides what a role may not do from its own copy of the permission table
// (apps/dashboard-web/src/lib/permissions.ts: the browser build cannot import this module's
// Prisma types). This fails when the two tables drift apart.
import { describe, expect, it } from 'vitest';
import { PERMISSIONS as WEB_PERMISSIONS, scopesFor } from '../../../../dashboard-web/src/lib/permissions.ts';
import { ORG_ROLES, PERMISSIONS, scopeAllowed } from './policy.ts';

describe('the web dashboard permission table', () => {
  it('is the API policy', () => {
    expect(WEB_PERMISSIONS).toEqual(PERMISSIONS);
  });
  it('offers exactly the key scopes the API allows per role', () => {
    for (const role of ORG_ROLES) expect(scopesFor(role), role).toEqual((['read', 'operate', 'admin'] as const).filter((s) => scopeAllowed(role, s)));
  });
});
