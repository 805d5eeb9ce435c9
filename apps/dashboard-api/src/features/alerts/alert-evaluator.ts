// Alerts on top of the fleet's state (issue 13): "dongle offline longer than N minutes" and
// "command failure rate above X % over Y minutes". Each rule is evaluated in one transaction
// holding an advisory lock on the rule, so however many instances run this worker, an incident
// is opened once and resolved once. Opening and resolving write an `alert.triggered` /
// `alert.resolved` event (the stream shows it; webhooks subscribed to it receive it) and, when
// the rule says so, email the organization's owners and admins (outbox) — in the same transaction.
import type pg from 'pg';
import { inPgTransaction, type Database } from '../../platform/database.ts';
import { periodicWorker, type BackgroundWorker } from '../../platform/lifecycle.ts';
import type { Logger } from '../../platform/logger.ts';
import { recordEvent } from '../../platform/events/event-writer.ts';
import { activeUserSql } from '../auth/user-status.ts';
import { COMMANDABLE_STATE_SQL } from '../dongles/dongle-state.ts';
import { holdsSql } from '../organizations/policy.ts';

const RULE_LOCK_CLASS = 7014;

interface Rule {
  id: string;
  organizationId: string;
  kind: 'dongle_offline' | 'command_failure_rate';
  offlineMinutes: number | null;
  failureRatePercent: number | null;
  windowMinutes: number | null;
  minCommands: number;
  email: boolean;
}

/** Subjects currently in breach, with details for the notice. */
async function breaches(client: pg.PoolClient, rule: Rule): Promise<Map<string, Record<string, unknown>>> {
  const found = new Map<string, Record<string, unknown>>();
  if (rule.kind === 'dongle_offline') {
    // Dongles in service (the state that takes commands) that no agent reported for offlineMinutes.
    const { rows } = await client.query<{ id: string; device_id: string; last_seen_at: Date | null }>(
      `SELECT id::text, device_id, last_seen_at FROM dongles
        WHERE organization_id = $1::uuid AND ownership_state = ${COMMANDABLE_STATE_SQL}
          AND (last_seen_at IS NULL OR last_seen_at < now() - make_interval(mins => $2))`,
      [rule.organizationId, rule.offlineMinutes],
    );
    for (const row of rows) found.set(row.id, { deviceId: row.device_id, lastSeenAt: row.last_seen_at?.toISOString() ?? null, offlineMinutes: rule.offlineMinutes });
    return found;
  }
  const { rows } = await client.query<{ finished: number; failed: number }>(
    `SELECT count(*)::int AS finished, count(*) FILTER (WHERE status IN ('FAILED', 'TIMED_OUT', 'EXPIRED'))::int AS failed
       FROM commands WHERE organization_id = $1::uuid AND completed_at > now() - make_interval(mins => $2)
        AND status IN ('SUCCEEDED', 'FAILED', 'TIMED_OUT', 'EXPIRED')`,
    [rule.organizationId, rule.windowMinutes],
  );
  const { finished, failed } = rows[0]!;
  const percent = finished > 0 ? (100 * failed) / finished : 0;
  if (finished >= rule.minCommands && percent > rule.failureRatePercent!) {
    found.set(rule.organizationId, { finished, failed, percent: Math.round(percent * 10) / 10, thresholdPercent: rule.failureRatePercent, windowMinutes: rule.windowMinutes });
  }
  return found;
}

const summary = (rule: Rule, details: Record<string, unknown>, resolved: boolean): string =>
  rule.kind === 'dongle_offline'
    ? `Dongle ${details.deviceId as string} ${resolved ? 'is back online' : `has been offline for more than ${rule.offlineMinutes} minutes`}.`
    : resolved
      ? `The command failure rate is back under ${rule.failureRatePercent} %.`
      : `${details.percent as number} % of the last ${details.finished as number} commands failed within ${rule.windowMinutes} minutes (threshold ${rule.failureRatePercent} %).`;

async function notify(client: pg.PoolClient, rule: Rule, incident: { id: string; subjectId: string }, details: Record<string, unknown>, resolved: boolean, publicUrl: string) {
  await recordEvent(client, {
    organizationId: rule.organizationId,
    type: resolved ? 'alert.resolved' : 'alert.triggered',
    subjectId: incident.id,
    data: { ruleId: rule.id, kind: rule.kind, subjectId: incident.subjectId, ...details },
  });
  if (!rule.email) return;
  const { rows } = await client.query<{ email: string }>(
    `SELECT u.email FROM memberships m JOIN users u ON u.id = m.user_id
      WHERE m.organization_id = $1::uuid AND ${holdsSql('m', 'members.manage')} AND ${activeUserSql('u')}`,
    [rule.organizationId],
  );
  const text = `${summary(rule, details, resolved)}\n\nOpen the dashboard: ${publicUrl}\n`;
  for (const { email } of rows) {
    await client.query(`INSERT INTO email_outbox (id, "to", subject, text) VALUES (gen_random_uuid(), $1, $2, $3)`, [
      email,
      `${resolved ? 'Resolved' : 'Alert'}: ${rule.kind === 'dongle_offline' ? 'dongle offline' : 'command failures'}`,
      text,
    ]);
  }
}

/** Evaluates one rule; returns how many incidents it opened and resolved. */
async function evaluateRule(client: pg.PoolClient, rule: Rule, publicUrl: string): Promise<{ opened: number; resolved: number }> {
  await client.query(`SELECT pg_advisory_xact_lock(${RULE_LOCK_CLASS}, hashtext($1::text))`, [rule.id]);
  const current = await breaches(client, rule);
  const { rows: open } = await client.query<{ id: string; subject_id: string; details: Record<string, unknown> }>(
    `SELECT id::text, subject_id, details FROM alert_incidents WHERE rule_id = $1::uuid AND resolved_at IS NULL`,
    [rule.id],
  );
  const openSubjects = new Set(open.map((row) => row.subject_id));
  let opened = 0;
  let resolved = 0;
  for (const [subjectId, details] of current) {
    if (openSubjects.has(subjectId)) continue;
    const { rows } = await client.query<{ id: string }>(
      `INSERT INTO alert_incidents (rule_id, subject_id, details) VALUES ($1::uuid, $2, $3::jsonb) RETURNING id::text`,
      [rule.id, subjectId, JSON.stringify(details)],
    );
    await notify(client, rule, { id: rows[0]!.id, subjectId }, details, false, publicUrl);
    opened++;
  }
  for (const incident of open) {
    if (current.has(incident.subject_id)) continue;
    await client.query(`UPDATE alert_incidents SET resolved_at = now() WHERE id = $1::uuid`, [incident.id]);
    await notify(client, rule, { id: incident.id, subjectId: incident.subject_id }, incident.details, true, publicUrl);
    resolved++;
  }
  return { opened, resolved };
}

const RULES_SQL = `SELECT id::text, organization_id::text AS "organizationId", kind::text, offline_minutes AS "offlineMinutes",
  failure_rate_percent AS "failureRatePercent", window_minutes AS "windowMinutes", min_commands AS "minCommands", email
  FROM alert_rules ORDER BY id`;

/** One pass over every rule (each in its own transaction). */
export async function evaluateAlerts(db: Database, publicUrl: string): Promise<{ opened: number; resolved: number }> {
  const total = { opened: 0, resolved: 0 };
  const { rows } = await db.pool.query<Rule>(RULES_SQL);
  for (const rule of rows) {
    const result = await inPgTransaction(db.pool, (client) => evaluateRule(client, rule, publicUrl));
    total.opened += result.opened;
    total.resolved += result.resolved;
  }
  return total;
}

export function createAlertWorker(deps: { db: Database; logger: Logger; intervalMs: number; publicUrl: string }): BackgroundWorker {
  return periodicWorker({
    name: 'alerts',
    intervalMs: deps.intervalMs,
    work: async () => {
      const result = await evaluateAlerts(deps.db, deps.publicUrl);
      if (result.opened || result.resolved) deps.logger.info(result, 'alerts evaluated');
    },
    logger: deps.logger,
  });
}
