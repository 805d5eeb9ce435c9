// Organization test helpers: a shared organization with members of given roles, built through
// the real HTTP routes (create, invite, accept), plus an agent of the organization.
import { expect } from 'vitest';
import { createAgent, createLoggedInUser, type LoggedIn } from './factories.ts';
import { csrf } from './fleet.ts';
import { waitForEmails } from './mail.ts';
import type { TestApp } from './test-app.ts';

export type Member = Awaited<ReturnType<typeof createLoggedInUser>>;
export type Role = 'owner' | 'admin' | 'operator' | 'viewer';

export const inviteToken = (text: string) => /token=([A-Za-z0-9_%-]+)/.exec(text)![1]!;

/** Invites `email` with `role` as `by` and returns the emailed token. */
export async function invite(app: TestApp, by: LoggedIn, orgId: string, email: string, role: Exclude<Role, 'owner'>) {
  const res = await by.agent.post(`/api/orgs/${orgId}/invitations`).set(csrf(by)).send({ email, role });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  const emails = await waitForEmails(app.db, email);
  return { invitation: res.body, token: decodeURIComponent(inviteToken(emails.at(-1)!.text)) };
}

/** A new logged-in user who joined `orgId` with `role` (through an accepted invitation). */
export async function joinAs(app: TestApp, owner: LoggedIn, orgId: string, role: Exclude<Role, 'owner'>): Promise<Member> {
  const member = await createLoggedInUser(app.db, app.url);
  const { token } = await invite(app, owner, orgId, member.user.email, role);
  const accepted = await member.agent.post('/api/invitations/accept').set(csrf(member)).send({ token });
  expect(accepted.status, JSON.stringify(accepted.body)).toBe(200);
  return member;
}

/** An organization owned by a new user, with one member per other role and an enrolled agent. */
export async function createTeam(app: TestApp, name = 'Lab') {
  const owner = await createLoggedInUser(app.db, app.url);
  const created = await owner.agent.post('/api/orgs').set(csrf(owner)).send({ name });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const orgId = created.body.id as string;
  const admin = await joinAs(app, owner, orgId, 'admin');
  const operator = await joinAs(app, owner, orgId, 'operator');
  const viewer = await joinAs(app, owner, orgId, 'viewer');
  const agent = await createAgent(app.db, owner.user.id, 'lab-pc', orgId);
  return { orgId, owner, admin, operator, viewer, agentRow: agent.agent, agentAuth: agent.authorization, members: { owner, admin, operator, viewer } };
}
export type Team = Awaited<ReturnType<typeof createTeam>>;
