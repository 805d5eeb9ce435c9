// Administrators (role admin, cookie session), under /api/admin. Every path:
//
//   GET   /users, PATCH /users/:id                   features/users (admin-users.routes.ts)
//   GET   /audit-logs, /audit-logs/export            features/audit (audit.routes.ts)
//   POST  /dongles/:id/force-release                 features/dongles (dongles.routes.ts)
import type express from 'express';
import { mountAuditRoutes } from '../features/audit/audit.routes.ts';
import type { AuditReview } from '../features/audit/audit.service.ts';
import { mountDongleAdminRoutes } from '../features/dongles/dongles.routes.ts';
import type { DonglesService } from '../features/dongles/dongles.service.ts';
import { mountAdminUserRoutes } from '../features/users/admin-users.routes.ts';
import type { AdminUsersService } from '../features/users/admin-users.service.ts';
import { audienceRouter, type Guards } from '../platform/http/api-router.ts';
import type { OpenApiRegistry } from '../platform/http/openapi.ts';
import type { Logger } from '../platform/logger.ts';

/** Where app.ts mounts this router, under /api. */
export const ADMIN_BASE = '/admin';

export interface AdminRouteDeps {
  logger: Logger;
  adminUsers: AdminUsersService;
  auditReview: AuditReview;
  dongles: DonglesService;
}

export function adminRoutes(openapi: OpenApiRegistry, guards: Guards, deps: AdminRouteDeps): express.Router {
  const { router, mount } = audienceRouter(openapi, guards, ADMIN_BASE);
  mountAdminUserRoutes(mount('/users'), { users: deps.adminUsers });
  const admin = mount('');
  mountAuditRoutes(admin, { review: deps.auditReview, logger: deps.logger });
  mountDongleAdminRoutes(admin, { dongles: deps.dongles });
  return router;
}
