import type { ApiRouter } from '../../platform/http/api-router.ts';
import type { Logger } from '../../platform/logger.ts';
import { currentUser } from '../auth/principal.ts';
import { currentScope } from '../organizations/org-scope.ts';
import { orgParams } from '../organizations/organizations.schemas.ts';
import { auditExportQuery, auditListQuery, auditLogPage } from './audit.schemas.ts';
import type { AuditReview } from './audit.service.ts';
import { requestContext } from '../../platform/audit/audit-writer.ts';
import { streamDownload } from './stream-response.ts';

/** Mounted under /api/admin. */
export function mountAuditRoutes(api: ApiRouter, deps: { review: AuditReview; logger: Logger }) {
  api.get(
    '/audit-logs',
    {
      summary: 'Search the audit log, newest first (keyset pagination)',
      tags: ['admin', 'audit'],
      auth: 'admin',
      query: auditListQuery,
      responses: { 200: { description: 'One page', schema: auditLogPage }, 403: { description: 'Not an admin (the denial is audited)' } },
    },
    async (_req, res) => {
      res.json(await deps.review.list(res.locals.query));
    },
  );

  api.get(
    '/audit-logs/export',
    {
      summary: 'Download every matching audit row as NDJSON or CSV, streamed',
      description: 'Same filters as the list. CSV cells that a spreadsheet would run as a formula are prefixed with a quote. The export is itself audited (`audit.export`).',
      tags: ['admin', 'audit'],
      auth: 'admin',
      query: auditExportQuery,
      responses: { 200: { description: 'application/x-ndjson or text/csv attachment' }, 403: { description: 'Not an admin (the denial is audited)' } },
    },
    async (req, res) => {
      const download = await deps.review.export(currentUser(res), res.locals.query, requestContext(req));
      await streamDownload(res, download.chunks, download, deps.logger);
    },
  );
}

/**
 * Mounted under /api/orgs: an organization's admins read its own log, with the same filters,
 * keyset pages and export as the admin review. Rows belong to an organization when the change
 * happened in it (audit_logs.organization_id); global admins keep the whole log above.
 */
export function mountOrgAuditRoutes(api: ApiRouter, deps: { review: AuditReview; logger: Logger }) {
  api.get(
    '/:orgId/audit-logs',
    {
      summary: "Search the organization's audit log, newest first (org admin)",
      tags: ['organizations', 'audit'],
      auth: 'session',
      permission: 'audit.read',
      params: orgParams,
      query: auditListQuery,
      responses: { 200: { description: 'One page', schema: auditLogPage } },
    },
    async (_req, res) => {
      res.json(await deps.review.list(res.locals.query, currentScope(res).orgId));
    },
  );

  api.get(
    '/:orgId/audit-logs/export',
    {
      summary: "Download the organization's matching audit rows as NDJSON or CSV (org admin)",
      tags: ['organizations', 'audit'],
      auth: 'session',
      permission: 'audit.read',
      params: orgParams,
      query: auditExportQuery,
      responses: { 200: { description: 'application/x-ndjson or text/csv attachment' } },
    },
    async (req, res) => {
      const download = await deps.review.export(currentUser(res), res.locals.query, requestContext(req), currentScope(res).orgId);
      await streamDownload(res, download.chunks, download, deps.logger);
    },
  );
}
