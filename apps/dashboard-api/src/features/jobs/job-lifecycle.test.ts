// The job and execution state tables are what doc/jobs.md says ("State tables"), final states
// have no way out, every state but the first is reached, and what an execution becomes when its
// command finishes (EXECUTION_OF_COMMAND) is a row's target. Pure: no database.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EXECUTION_TRANSITIONS, executionIs, executionOpen, executionTo, FINAL_JOB_STATUSES, JOB_TRANSITIONS, jobCanApply, OPEN_EXECUTION_STATUSES, RUNNING_JOB_STATUS } from './job-lifecycle.ts';
import { EXECUTION_OF_COMMAND } from './job-rules.ts';
import { EXECUTION_STATUSES, JOB_STATUSES } from './jobs.schemas.ts';

const doc = readFileSync(new URL('../../../../../doc/jobs.md', import.meta.url), 'utf8');

/** The rows of the doc table whose header starts with `| <first> |`: name → {from, to}. */
function docTable(first: string): Record<string, { from: string[]; to: string[] }> {
  const lines = doc.split('\n');
  const start = lines.findIndex((line) => line.startsWith(`| ${first} | from | to |`));
  expect(start, `doc/jobs.md has a "${first}" table`).toBeGreaterThan(-1);
  const rows: Record<string, { from: string[]; to: string[] }> = {};
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    const [name, from, to] = line.split('|').slice(1, 4).map((cell) => cell.trim());
    rows[name!] = { from: from!.split(', '), to: to!.split(', ') };
  }
  return rows;
}

const asDoc = <T extends { from: string | readonly string[]; to: string | readonly string[] }>(table: Record<string, T>) =>
  Object.fromEntries(Object.entries(table).map(([name, t]) => [name, { from: [t.from].flat(), to: [t.to].flat() }]));

describe('the job state table', () => {
  it('is the table of doc/jobs.md, row for row', () => {
    expect(asDoc(JOB_TRANSITIONS)).toEqual(docTable('job transition'));
  });

  it('has no way out of COMPLETED, ABORTED and CANCELLED; every other state is left by some row and reached by one', () => {
    expect([...FINAL_JOB_STATUSES].sort()).toEqual(['ABORTED', 'CANCELLED', 'COMPLETED']);
    const targets = new Set(Object.values(JOB_TRANSITIONS).map((t) => t.to));
    expect(JOB_STATUSES.filter((status) => status !== 'SCHEDULED' && !targets.has(status))).toEqual([]);
    // resume_unstarted makes SCHEDULED a target too: a job paused before it started waits again.
    expect(targets.has('SCHEDULED')).toBe(true);
  });

  it('lets a member pause, resume and cancel only from the states the doc lists', () => {
    const allowed = (transition: 'pause' | 'resume' | 'resume_unstarted' | 'cancel') => JOB_STATUSES.filter((status) => jobCanApply(transition, status));
    expect(allowed('pause')).toEqual(['SCHEDULED', 'IN_PROGRESS']);
    expect(allowed('resume')).toEqual(['PAUSED']);
    expect(allowed('resume_unstarted')).toEqual(['PAUSED']);
    expect(allowed('cancel')).toEqual(['SCHEDULED', 'IN_PROGRESS', 'PAUSED']);
    // The scheduler's own rows all leave the running state (start aside).
    for (const t of ['stage_pause', 'stage_advance', 'complete', 'abort'] as const) expect(JOB_TRANSITIONS[t].from).toEqual([RUNNING_JOB_STATUS]);
    expect(RUNNING_JOB_STATUS).toBe('IN_PROGRESS');
  });
});

describe('the execution state table', () => {
  it('is the table of doc/jobs.md, row for row', () => {
    expect(asDoc(EXECUTION_TRANSITIONS)).toEqual(docTable('execution transition'));
  });

  it('leaves only PENDING and IN_PROGRESS; every other state is final, and every state is reached', () => {
    expect(OPEN_EXECUTION_STATUSES).toEqual(['PENDING', 'IN_PROGRESS']);
    const targets = new Set(Object.values(EXECUTION_TRANSITIONS).flatMap((t) => t.to));
    expect(EXECUTION_STATUSES.filter((status) => !targets.has(status))).toEqual([]);
  });

  it("takes what an execution becomes from its command's end from the follow_command and requeue rows", () => {
    const reachable = new Set<string>([...EXECUTION_TRANSITIONS.follow_command.to, ...EXECUTION_TRANSITIONS.requeue.to]);
    for (const [command, outcome] of Object.entries(EXECUTION_OF_COMMAND)) expect(reachable.has(outcome.execution), `${command} → ${outcome.execution}`).toBe(true);
  });

  it('puts its states into SQL as typed literals from the table', () => {
    expect(executionIs('hand_out', 'e.status')).toBe("e.status = 'PENDING'::execution_status");
    expect(executionTo('miss_deadline')).toBe("'TIMED_OUT'::execution_status");
    expect(executionOpen()).toBe("status IN ('PENDING'::execution_status, 'IN_PROGRESS'::execution_status)");
  });
});
