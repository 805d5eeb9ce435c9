// The web dashboard refetches what an event makes stale (apps/dashboard-web/src/lib/event-keys.ts).
// Every event type the server writes must be mapped there on purpose: a new type that no view
// reacts to fails here until it is mapped or listed as shown by no page.
import { describe, expect, it } from 'vitest';
import { staleViews } from '../../../../dashboard-web/src/lib/event-keys.ts';
import { EVENT_TYPE_NAMES, EVENT_TYPES } from '../../platform/events/event-types.ts';

const SHOWN_BY_NO_PAGE = new Set(['webhook.disabled', 'alert.triggered', 'alert.resolved']);
const ORG = 'org-1';
const event = (type: string, data: Record<string, unknown> = {}) => ({ id: '1', type, subject: { type: EVENT_TYPES[type as keyof typeof EVENT_TYPES], id: 'subject-1' }, data });
const keys = (type: string, data?: Record<string, unknown>) => staleViews(ORG, event(type, { dongleId: 'dongle-1', jobId: 'job-1', ...data })).map((s) => s.queryKey.join('/'));

describe('the web dashboard event → view mapping', () => {
  it('maps every event type the server writes, except those no page shows', () => {
    for (const type of EVENT_TYPE_NAMES) expect(keys(type).length > 0, type).toBe(!SHOWN_BY_NO_PAGE.has(type));
  });
  it('refetches the dongle history for a command event, the job for an execution, and my role for a member event', () => {
    expect(keys('command.succeeded')).toEqual(['org/org-1/dongles/dongle-1/commands']);
    expect(keys('job.execution_updated')).toEqual(['org/org-1/jobs/list', 'org/org-1/jobs/job-1']);
    expect(keys('member.role_changed')).toContain('orgs');
    expect(keys('can_config.applied')).toEqual(expect.arrayContaining(['org/org-1/dongles/subject-1/can-config', 'org/org-1/dongles/list']));
  });
});
