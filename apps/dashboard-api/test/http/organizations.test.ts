// Organizations over real HTTP and PostgreSQL: personal organizations, creating and sharing one,
// roles, the last-owner rule, transfer, removal, and the shared fleet (two members, one dongle).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLoggedInUser, randomDeviceId } from '../support/factories.ts';
import { csrf, heartbeat, startFleetApp } from '../support/fleet.ts';
import { createTeam, invite, joinAs, type Team } from '../support/orgs.ts';
import type { TestApp } from '../support/test-app.ts';

let app: TestApp;
let team: Team;
beforeAll(async () => {
  app = await startFleetApp();
  team = await createTeam(app);
});
afterAll(() => app.stop());

const audits = (action: string, targetId?: string) => app.db.prisma.auditLog.findMany({ where: { action, ...(targetId ? { targetId } : {}) }, orderBy: { createdAt: 'asc' } });

describe('personal organization', () => {
  it('exists for every new user, with them as owner, and is what the v0.7 routes act in', async () => {
    const user = await createLoggedInUser(app.db, app.url);
    const list = await user.agent.get('/api/orgs');
    expect(list.status).toBe(200);
    expect(list.body.items).toEqual([expect.objectContaining({ personal: true, role: 'owner', name: user.user.email })]);
    const personalId = list.body.items[0].id;
    // The same (empty) dongle list both ways.
    const [unscoped, scoped] = await Promise.all([user.agent.get('/api/dongles'), user.agent.get(`/api/orgs/${personalId}/dongles`)]);
    expect(scoped.status).toBe(200);
    expect(scoped.body).toEqual(unscoped.body);
  });

  it('takes no other members and cannot be deleted', async () => {
    const user = await createLoggedInUser(app.db, app.url);
    const personalId = (await user.agent.get('/api/orgs')).body.items[0].id;
    const invited = await user.agent.post(`/api/orgs/${personalId}/invitations`).set(csrf(user)).send({ email: 'x@example.test', role: 'viewer' });
    expect(invited.status).toBe(409);
    expect(invited.body.error.code).toBe('personal_organization');
    const deleted = await user.agent.delete(`/api/orgs/${personalId}`).set(csrf(user));
    expect(deleted.status).toBe(409);
  });
});

describe('a shared organization', () => {
  it('lists its members with their roles; every membership change is audited in the org log', async () => {
    const res = await team.viewer.agent.get(`/api/orgs/${team.orgId}/members`);
    expect(res.status).toBe(200);
    expect(Object.fromEntries(res.body.items.map((m: { email: string; role: string }) => [m.email, m.role]))).toEqual({
      [team.owner.user.email]: 'owner',
      [team.admin.user.email]: 'admin',
      [team.operator.user.email]: 'operator',
      [team.viewer.user.email]: 'viewer',
    });
    const added = await app.db.prisma.auditLog.findMany({ where: { action: 'organization.member.add', organizationId: team.orgId } });
    expect(added).toHaveLength(4);
  });

  it('answers 404 to a non-member on every organization route, and 404 for an id that is not a uuid', async () => {
    const stranger = await createLoggedInUser(app.db, app.url);
    for (const path of ['', '/members', '/dongles', '/agents', '/groups']) {
      expect((await stranger.agent.get(`/api/orgs/${team.orgId}${path}`)).status, path).toBe(404);
    }
    expect((await stranger.agent.get('/api/orgs/not-a-uuid/dongles')).status).toBe(404);
  });

  it('lets two members see and claim through the same agent: the dongle is the organization’s', async () => {
    const deviceId = randomDeviceId();
    await heartbeat(app, team.agentAuth, [deviceId]);
    const claimed = await team.operator.agent.post(`/api/orgs/${team.orgId}/dongles/claim`).set(csrf(team.operator)).send({ deviceId });
    expect(claimed.status, JSON.stringify(claimed.body)).toBe(202);
    // The viewer sees it, with the organization's agent named; the claimer is kept.
    const seen = await team.viewer.agent.get(`/api/orgs/${team.orgId}/dongles/${claimed.body.id}`);
    expect(seen.status).toBe(200);
    expect(seen.body.lastSeenAgentId).toBe(team.agentRow.id);
    const row = await app.db.prisma.dongle.findUniqueOrThrow({ where: { id: claimed.body.id } });
    expect(row).toMatchObject({ organizationId: team.orgId, ownerUserId: team.operator.user.id });
    // Not in anyone's personal organization.
    expect((await team.operator.agent.get('/api/dongles')).body.items).toEqual([]);
  });

  it('lets two members command the same dongle through an agent a third member enrolled; the hand-out stays in the organization', async () => {
    const t = await createTeam(app);
    const other = await createTeam(app, 'Neighbours');
    const deviceId = randomDeviceId();
    await heartbeat(app, t.agentAuth, [deviceId]);
    const claimed = await t.operator.agent.post(`/api/orgs/${t.orgId}/dongles/claim`).set(csrf(t.operator)).send({ deviceId });
    expect((await app.http.post(`/api/agent/dongles/${deviceId}/token`).set('Authorization', t.agentAuth)).status).toBe(200);
    expect((await app.http.post(`/api/agent/dongles/${deviceId}/token/ack`).set('Authorization', t.agentAuth)).status).toBe(200);
    const send = (m: typeof t.admin) => m.agent.post(`/api/orgs/${t.orgId}/dongles/${claimed.body.id}/commands`).set(csrf(m)).send({ type: 'PING', payload: {} });
    const [byAdmin, byOperator] = [await send(t.admin), await send(t.operator)];
    expect([byAdmin.status, byOperator.status]).toEqual([201, 201]);
    expect((await send(t.viewer)).status).toBe(403);
    // Another organization's agent reporting the dongle gets nothing; the organization's agent gets both.
    await heartbeat(app, other.agentAuth, [deviceId]);
    expect((await app.http.get('/api/agent/commands?wait=0').set('Authorization', other.agentAuth)).body.commands).toEqual([]);
    const polled = await app.http.get('/api/agent/commands?wait=0').set('Authorization', t.agentAuth);
    expect(polled.body.commands.map((c: { id: string }) => c.id).sort()).toEqual([byAdmin.body.id, byOperator.body.id].sort());
    // Every member reads both; the creators are kept.
    const history = await t.viewer.agent.get(`/api/orgs/${t.orgId}/dongles/${claimed.body.id}/commands`);
    expect(history.body.items.map((c: { id: string }) => c.id).sort()).toEqual([byAdmin.body.id, byOperator.body.id].sort());
    const rows = await app.db.prisma.command.findMany({ where: { id: { in: [byAdmin.body.id, byOperator.body.id] } } });
    expect(new Set(rows.map((r) => r.createdByUserId))).toEqual(new Set([t.admin.user.id, t.operator.user.id]));
    expect(rows.every((r) => r.organizationId === t.orgId)).toBe(true);
    // Another organization cannot even see them.
    expect((await other.owner.agent.get(`/api/orgs/${other.orgId}/commands/${byAdmin.body.id}`)).status).toBe(404);
  });

  it('refuses a claim when the dongle is seen only by another organization’s agent (404)', async () => {
    const other = await createTeam(app, 'Other lab');
    const deviceId = randomDeviceId();
    await heartbeat(app, other.agentAuth, [deviceId]);
    const res = await team.operator.agent.post(`/api/orgs/${team.orgId}/dongles/claim`).set(csrf(team.operator)).send({ deviceId });
    expect(res.status).toBe(404);
    const row = await app.db.prisma.dongle.findUniqueOrThrow({ where: { deviceId } });
    expect(row.ownershipState).toBe('UNCLAIMED');
  });

  it('answers 403 to a viewer on a state change and changes nothing; the denial is audited', async () => {
    const res = await team.viewer.agent.post(`/api/orgs/${team.orgId}/dongles/claim`).set(csrf(team.viewer)).send({ deviceId: randomDeviceId() });
    expect(res.status).toBe(403);
    const denied = await app.db.prisma.auditLog.findFirst({ where: { action: 'organization.access_denied', actorId: team.viewer.user.id } });
    expect(denied?.result).toBe('denied');
  });
});

describe('owners', () => {
  it('keeps the last owner: they cannot leave or be demoted (409)', async () => {
    const t = await createTeam(app);
    const leave = await t.owner.agent.post(`/api/orgs/${t.orgId}/leave`).set(csrf(t.owner));
    expect(leave.status).toBe(409);
    expect(leave.body.error.code).toBe('last_owner');
    const demote = await t.owner.agent.patch(`/api/orgs/${t.orgId}/members/${t.owner.user.id}`).set(csrf(t.owner)).send({ role: 'viewer' });
    expect(demote.status).toBe(409);
    // An admin may not touch an owner at all.
    const byAdmin = await t.admin.agent.patch(`/api/orgs/${t.orgId}/members/${t.owner.user.id}`).set(csrf(t.admin)).send({ role: 'viewer' });
    expect(byAdmin.status).toBe(403);
  });

  it('transfers ownership to a member; the previous owner stays as admin; only an owner may', async () => {
    const t = await createTeam(app);
    expect((await t.admin.agent.post(`/api/orgs/${t.orgId}/transfer`).set(csrf(t.admin)).send({ userId: t.admin.user.id })).status).toBe(403);
    const res = await t.owner.agent.post(`/api/orgs/${t.orgId}/transfer`).set(csrf(t.owner)).send({ userId: t.operator.user.id });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const roles = Object.fromEntries(res.body.items.map((m: { userId: string; role: string }) => [m.userId, m.role]));
    expect(roles[t.operator.user.id]).toBe('owner');
    expect(roles[t.owner.user.id]).toBe('admin');
    expect(await audits('organization.transfer', t.orgId)).toHaveLength(1);
    // Now the old owner may not rename it; the new one may.
    expect((await t.owner.agent.patch(`/api/orgs/${t.orgId}`).set(csrf(t.owner)).send({ name: 'Mine' })).status).toBe(403);
    expect((await t.operator.agent.patch(`/api/orgs/${t.orgId}`).set(csrf(t.operator)).send({ name: 'Ours' })).body.name).toBe('Ours');
  });

  it('deletes an organization only when its dongles are released', async () => {
    const t = await createTeam(app);
    const deviceId = randomDeviceId();
    await heartbeat(app, t.agentAuth, [deviceId]);
    expect((await t.operator.agent.post(`/api/orgs/${t.orgId}/dongles/claim`).set(csrf(t.operator)).send({ deviceId })).status).toBe(202);
    const refused = await t.owner.agent.delete(`/api/orgs/${t.orgId}`).set(csrf(t.owner));
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('organization_not_empty');
    expect((await t.admin.agent.delete(`/api/orgs/${t.orgId}`).set(csrf(t.admin))).status).toBe(403);
  });
});

describe('deleting an organization', () => {
  it('removes it with its agents, keys and invitations; its members get 404 afterwards; audited', async () => {
    const t = await createTeam(app);
    await t.operator.agent.post(`/api/orgs/${t.orgId}/api-keys`).set(csrf(t.operator)).send({ name: 'ci', scope: 'read' });
    const deleted = await t.owner.agent.delete(`/api/orgs/${t.orgId}`).set(csrf(t.owner));
    expect(deleted.status).toBe(204);
    expect((await t.viewer.agent.get(`/api/orgs/${t.orgId}`)).status).toBe(404);
    expect(await app.db.prisma.agent.count({ where: { id: t.agentRow.id } })).toBe(0);
    expect(await app.db.prisma.apiKey.count({ where: { organizationId: t.orgId } })).toBe(0);
    // Its agent's token no longer authenticates.
    expect((await app.http.post('/api/agent/heartbeat').set('Authorization', t.agentAuth).send({ version: '1', dongles: [] })).status).toBe(401);
    const audit = await app.db.prisma.auditLog.findFirst({ where: { action: 'organization.delete', targetId: t.orgId } });
    expect(audit).toMatchObject({ actorId: t.owner.user.id, organizationId: t.orgId });
  });
});

describe('removing a member', () => {
  it('ends their access at the next request', async () => {
    const t = await createTeam(app);
    expect((await t.operator.agent.get(`/api/orgs/${t.orgId}/dongles`)).status).toBe(200);
    const removed = await t.admin.agent.delete(`/api/orgs/${t.orgId}/members/${t.operator.user.id}`).set(csrf(t.admin));
    expect(removed.status).toBe(204);
    expect((await t.operator.agent.get(`/api/orgs/${t.orgId}/dongles`)).status).toBe(404);
    const [row] = await audits('organization.member.remove', t.operator.user.id);
    expect(row).toMatchObject({ actorId: t.admin.user.id, organizationId: t.orgId });
  });
});

describe('invitations', () => {
  it('emails a single-use link; only the invited address may accept it, once', async () => {
    const t = await createTeam(app);
    const invitee = await createLoggedInUser(app.db, app.url);
    const other = await createLoggedInUser(app.db, app.url);
    const { invitation, token } = await invite(app, t.admin, t.orgId, invitee.user.email, 'operator');
    expect(invitation.status).toBe('pending');
    const stored = await app.db.prisma.invitation.findUniqueOrThrow({ where: { id: invitation.id } });
    expect(stored.tokenHash).not.toContain(token);
    expect(stored.expiresAt.getTime() - stored.createdAt.getTime()).toBeGreaterThan(6.9 * 24 * 3600_000);
    // Another logged-in user with the link gets nothing.
    expect((await other.agent.post('/api/invitations/accept').set(csrf(other)).send({ token })).status).toBe(404);
    const accepted = await invitee.agent.post('/api/invitations/accept').set(csrf(invitee)).send({ token });
    expect(accepted.status).toBe(200);
    expect(accepted.body).toMatchObject({ id: t.orgId, role: 'operator' });
    expect((await invitee.agent.post('/api/invitations/accept').set(csrf(invitee)).send({ token })).status).toBe(404);
    // No token in any audit row.
    const rows = await app.db.prisma.auditLog.findMany({ where: { organizationId: t.orgId } });
    expect(JSON.stringify(rows)).not.toContain(token);
  });

  it('makes one membership from two concurrent accepts of one token', async () => {
    const t = await createTeam(app);
    const invitee = await createLoggedInUser(app.db, app.url);
    const { token } = await invite(app, t.admin, t.orgId, invitee.user.email, 'viewer');
    const results = await Promise.all([1, 2, 3].map(() => invitee.agent.post('/api/invitations/accept').set(csrf(invitee)).send({ token })));
    expect(results.map((r) => r.status).sort()).toEqual([200, 404, 404]);
    expect(await app.db.prisma.membership.count({ where: { organizationId: t.orgId, userId: invitee.user.id } })).toBe(1);
  });

  it('lists, revokes and resends; a revoked or superseded link no longer works', async () => {
    const t = await createTeam(app);
    const invitee = await createLoggedInUser(app.db, app.url);
    const first = await invite(app, t.admin, t.orgId, invitee.user.email, 'viewer');
    expect((await t.admin.agent.post(`/api/orgs/${t.orgId}/invitations`).set(csrf(t.admin)).send({ email: invitee.user.email, role: 'viewer' })).status).toBe(409);
    const resent = await t.admin.agent.post(`/api/orgs/${t.orgId}/invitations/${first.invitation.id}/resend`).set(csrf(t.admin));
    expect(resent.status).toBe(200);
    expect((await invitee.agent.post('/api/invitations/accept').set(csrf(invitee)).send({ token: first.token })).status).toBe(404);
    const revoked = await t.admin.agent.delete(`/api/orgs/${t.orgId}/invitations/${first.invitation.id}`).set(csrf(t.admin));
    expect(revoked.body.status).toBe('revoked');
    const list = await t.admin.agent.get(`/api/orgs/${t.orgId}/invitations`);
    expect(list.body.items.find((i: { id: string }) => i.id === first.invitation.id).status).toBe('revoked');
    expect((await t.operator.agent.get(`/api/orgs/${t.orgId}/invitations`)).status).toBe(403);
    const actions = (await app.db.prisma.auditLog.findMany({ where: { targetId: first.invitation.id } })).map((r) => r.action);
    expect(actions).toEqual(expect.arrayContaining(['organization.invitation.create', 'organization.invitation.resend', 'organization.invitation.revoke']));
  });

  it('turns an already-member invitee away with 409', async () => {
    const t = await createTeam(app);
    const res = await t.admin.agent.post(`/api/orgs/${t.orgId}/invitations`).set(csrf(t.admin)).send({ email: t.viewer.user.email, role: 'admin' });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('already_member');
  });

  it('lets a newly joined member act at once', async () => {
    const t = await createTeam(app);
    const late = await joinAs(app, t.owner, t.orgId, 'operator');
    expect((await late.agent.get(`/api/orgs/${t.orgId}/agents`)).body.items.map((a: { id: string }) => a.id)).toEqual([t.agentRow.id]);
  });
});

describe('the organization audit log', () => {
  it('shows an org admin their organization’s rows only, with the admin review’s filters, pages and export', async () => {
    const t = await createTeam(app);
    const other = await createTeam(app, 'Elsewhere');
    const page = await t.admin.agent.get(`/api/orgs/${t.orgId}/audit-logs?limit=2`);
    expect(page.status).toBe(200);
    expect(page.body.items).toHaveLength(2);
    expect(page.body.nextCursor).toEqual(expect.any(String));
    const all = [];
    for (let cursor: string | null = null, first = true; first || cursor; first = false) {
      const res = await t.admin.agent.get(`/api/orgs/${t.orgId}/audit-logs`).query({ limit: 5, ...(cursor ? { cursor } : {}) });
      all.push(...res.body.items);
      cursor = res.body.nextCursor;
    }
    const ids = new Set((await app.db.prisma.auditLog.findMany({ where: { organizationId: t.orgId }, select: { id: true } })).map((r) => r.id));
    expect(all.map((r: { id: string }) => r.id).sort()).toEqual([...ids].sort());
    expect(JSON.stringify(all)).not.toContain(other.orgId);
    const filtered = await t.admin.agent.get(`/api/orgs/${t.orgId}/audit-logs`).query({ action: 'organization.member.add' });
    expect(filtered.body.items).toHaveLength(4);
    const exported = await t.admin.agent.get(`/api/orgs/${t.orgId}/audit-logs/export`).query({ format: 'ndjson' }).buffer(true).parse((res, done) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => done(null, text));
    });
    expect(exported.status).toBe(200);
    const lines = String(exported.body).trim().split('\n').map((line) => JSON.parse(line) as { id: string; action: string });
    // Everything of the organization, including the export's own row (written before it streams).
    const after = (await app.db.prisma.auditLog.findMany({ where: { organizationId: t.orgId }, select: { id: true } })).map((r) => r.id);
    expect(lines.map((line) => line.id).sort()).toEqual(after.sort());
    expect(lines.some((line) => line.action === 'audit.export')).toBe(true);
  });

  it('is closed to operators and viewers (403) and to non-members (404)', async () => {
    const t = await createTeam(app);
    expect((await t.operator.agent.get(`/api/orgs/${t.orgId}/audit-logs`)).status).toBe(403);
    expect((await t.viewer.agent.get(`/api/orgs/${t.orgId}/audit-logs`)).status).toBe(403);
    expect((await team.admin.agent.get(`/api/orgs/${t.orgId}/audit-logs`)).status).toBe(404);
  });
});
