// /api/orgs/:orgId/alerts: alert rules (members read them; owners and admins manage them) and
// their incidents. Evaluation: alert-evaluator.ts; doc/events.md § Alerts.
import { z } from 'zod';
import type { Database } from '../../platform/database.ts';
import { notFound } from '../../platform/errors.ts';
import type { ApiRouter } from '../../platform/http/api-router.ts';
import { recordAudit, requestContext } from '../../platform/audit/audit-writer.ts';
import { currentScope } from '../organizations/org-scope.ts';

const tags = ['alerts'];
const uuid = (name: string) => z.uuid({ message: `${name} must be a UUID` });
const orgParams = z.strictObject({ orgId: uuid('orgId') });
const ruleParams = z.strictObject({ orgId: uuid('orgId'), ruleId: uuid('ruleId') });

export const createRuleBody = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('dongle_offline'), offlineMinutes: z.number().int().min(1).max(10_080), email: z.boolean().default(true) }),
  z.strictObject({
    kind: z.literal('command_failure_rate'),
    failureRatePercent: z.number().int().min(0).max(99),
    windowMinutes: z.number().int().min(1).max(1_440),
    minCommands: z.number().int().min(1).max(10_000).default(5),
    email: z.boolean().default(true),
  }),
]);

const ruleView = z.object({
  id: z.string(),
  kind: z.enum(['dongle_offline', 'command_failure_rate']),
  offlineMinutes: z.number().nullable(),
  failureRatePercent: z.number().nullable(),
  windowMinutes: z.number().nullable(),
  minCommands: z.number(),
  email: z.boolean(),
  openIncidents: z.array(z.object({ id: z.string(), subjectId: z.string(), openedAt: z.string(), details: z.record(z.string(), z.unknown()) })),
  createdAt: z.string(),
});

export function mountAlertRoutes(api: ApiRouter, deps: { db: Database }) {
  const { prisma } = deps.db;
  const present = async (orgId: string, ruleId?: string) => {
    const rules = await prisma.alertRule.findMany({
      where: { organizationId: orgId, ...(ruleId ? { id: ruleId } : {}) },
      include: { incidents: { where: { resolvedAt: null }, orderBy: { openedAt: 'asc' } } },
      orderBy: { createdAt: 'asc' },
    });
    return rules.map((r) => ({
      id: r.id,
      kind: r.kind,
      offlineMinutes: r.offlineMinutes,
      failureRatePercent: r.failureRatePercent,
      windowMinutes: r.windowMinutes,
      minCommands: r.minCommands,
      email: r.email,
      openIncidents: r.incidents.map((i) => ({ id: i.id, subjectId: i.subjectId, openedAt: i.openedAt.toISOString(), details: i.details as Record<string, unknown> })),
      createdAt: r.createdAt.toISOString(),
    }));
  };

  api.get('/:orgId/alerts', { summary: 'Alert rules and their open incidents', tags, auth: 'session', permission: 'fleet.read', params: orgParams, responses: { 200: { description: 'Rules', schema: z.object({ items: z.array(ruleView) }) } } }, async (_req, res) => {
    res.json({ items: await present(currentScope(res).orgId) });
  });

  api.post('/:orgId/alerts', { summary: 'Create an alert rule (dongle offline, command failure rate)', tags, auth: 'session', permission: 'members.manage', params: orgParams, body: createRuleBody, responses: { 201: { description: 'The rule', schema: ruleView } } }, async (req, res) => {
    const scope = currentScope(res);
    const body = res.locals.body;
    const rule = await prisma.$transaction(async (tx) => {
      const created = await tx.alertRule.create({ data: { organizationId: scope.orgId, createdByUserId: scope.userId, ...body } });
      await recordAudit(tx, { actor: { type: 'user', id: scope.userId }, action: 'alert_rule.create', targetType: 'alert_rule', targetId: created.id, details: { organizationId: scope.orgId, ...body }, context: requestContext(req) });
      return created;
    });
    res.status(201).json((await present(scope.orgId, rule.id))[0]);
  });

  api.delete('/:orgId/alerts/:ruleId', { summary: 'Delete an alert rule and its incidents', tags, auth: 'session', permission: 'members.manage', params: ruleParams, responses: { 204: { description: 'Deleted' } } }, async (req, res) => {
    const scope = currentScope(res);
    await prisma.$transaction(async (tx) => {
      const deleted = await tx.alertRule.deleteMany({ where: { id: res.locals.params.ruleId, organizationId: scope.orgId } });
      if (deleted.count === 0) throw notFound('Alert rule');
      await recordAudit(tx, { actor: { type: 'user', id: scope.userId }, action: 'alert_rule.delete', targetType: 'alert_rule', targetId: res.locals.params.ruleId, details: { organizationId: scope.orgId }, context: requestContext(req) });
    });
    res.status(204).end();
  });
}
