// /api/orgs: organizations, members, invitations and API keys. Routes that address one
// organization name a permission (policy.ts); the guard answers 404 to non-members and 403 to
// roles below it. The fleet of an organization is under /api/orgs/:orgId/{agents,dongles,…}
// (mounted by app.ts with the fleet features' own routers).
import { z } from 'zod';
import type { ApiRouter } from '../../platform/http/api-router.ts';
import { requestContext } from '../../platform/audit/audit-writer.ts';
import { currentUser } from '../auth/principal.ts';
import type { ApiKeysService } from './api-keys.service.ts';
import type { InvitationsService } from './invitations.service.ts';
import { currentScope } from './org-scope.ts';
import {
  acceptBody,
  apiKeyParams,
  apiKeyView,
  changeRoleBody,
  createApiKeyBody,
  createdApiKeyView,
  createOrgBody,
  invitationParams,
  invitationView,
  inviteBody,
  memberParams,
  memberView,
  orgParams,
  orgView,
  renameOrgBody,
  transferBody,
} from './organizations.schemas.ts';
import type { OrganizationsService } from './organizations.service.ts';

const tags = ['organizations'];
const items = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item) });

export interface OrganizationRouteDeps {
  orgs: OrganizationsService;
  invitations: InvitationsService;
  apiKeys: ApiKeysService;
}

export function mountOrganizationRoutes(api: ApiRouter, deps: OrganizationRouteDeps) {
  const { orgs, invitations, apiKeys } = deps;

  api.get('/', { summary: 'The organizations I belong to, with my role in each', tags, auth: 'session', responses: { 200: { description: 'My organizations', schema: items(orgView) } } }, async (_req, res) => {
    res.json({ items: await orgs.listMine(currentUser(res)) });
  });

  api.post('/', { summary: 'Create an organization; I become its owner', tags, auth: 'verified', body: createOrgBody, responses: { 201: { description: 'The organization', schema: orgView } } }, async (req, res) => {
    res.status(201).json(await orgs.create(currentUser(res), res.locals.body.name, requestContext(req)));
  });

  api.get('/:orgId', { summary: 'One organization', tags, auth: 'session', permission: 'fleet.read', params: orgParams, responses: { 200: { description: 'The organization', schema: orgView } } }, async (_req, res) => {
    res.json(await orgs.get(currentScope(res)));
  });

  api.patch('/:orgId', { summary: 'Rename the organization (owner)', tags, auth: 'session', permission: 'organization.own', params: orgParams, body: renameOrgBody, responses: { 200: { description: 'The organization', schema: orgView } } }, async (req, res) => {
    res.json(await orgs.rename(currentScope(res), res.locals.body.name, requestContext(req)));
  });

  api.delete(
    '/:orgId',
    {
      summary: 'Delete the organization (owner) with its agents, groups, commands, keys and invitations',
      tags,
      auth: 'session',
      permission: 'organization.own',
      params: orgParams,
      responses: { 204: { description: 'Deleted' }, 409: { description: 'personal_organization, or organization_not_empty: release its dongles first' } },
    },
    async (req, res) => {
      await orgs.remove(currentScope(res), requestContext(req));
      res.status(204).end();
    },
  );

  api.post(
    '/:orgId/transfer',
    { summary: 'Transfer ownership to a member (owner); I stay as admin', tags, auth: 'session', permission: 'organization.own', params: orgParams, body: transferBody, responses: { 200: { description: 'The members', schema: items(memberView) } } },
    async (req, res) => {
      res.json({ items: await orgs.transfer(currentScope(res), res.locals.body.userId, requestContext(req)) });
    },
  );

  // ---------------------------------------------------------------- members

  api.get('/:orgId/members', { summary: 'The members and their roles', tags, auth: 'session', permission: 'fleet.read', params: orgParams, responses: { 200: { description: 'The members', schema: items(memberView) } } }, async (_req, res) => {
    res.json({ items: await orgs.members(currentScope(res)) });
  });

  api.patch(
    '/:orgId/members/:userId',
    {
      summary: "Change a member's role (admin; owner roles only by an owner)",
      tags,
      auth: 'session',
      permission: 'members.manage',
      params: memberParams,
      body: changeRoleBody,
      responses: { 200: { description: 'The member', schema: memberView }, 409: { description: 'last_owner' } },
    },
    async (req, res) => {
      res.json(await orgs.changeRole(currentScope(res), res.locals.params.userId, res.locals.body.role, requestContext(req)));
    },
  );

  api.delete(
    '/:orgId/members/:userId',
    {
      summary: 'Remove a member (admin); their access and API keys for this organization end at once',
      tags,
      auth: 'session',
      permission: 'members.manage',
      params: memberParams,
      responses: { 204: { description: 'Removed' }, 409: { description: 'last_owner or personal_organization' } },
    },
    async (req, res) => {
      await orgs.removeMember(currentScope(res), res.locals.params.userId, requestContext(req));
      res.status(204).end();
    },
  );

  api.post(
    '/:orgId/leave',
    { summary: 'Leave the organization (not as its last owner)', tags, auth: 'session', permission: 'fleet.read', params: orgParams, responses: { 204: { description: 'Left' }, 409: { description: 'last_owner or personal_organization' } } },
    async (req, res) => {
      const scope = currentScope(res);
      await orgs.removeMember(scope, scope.userId, requestContext(req), true);
      res.status(204).end();
    },
  );

  // ---------------------------------------------------------------- invitations

  api.post(
    '/:orgId/invitations',
    {
      summary: 'Invite someone by email (admin): a single-use link valid 7 days',
      tags,
      auth: 'session',
      permission: 'members.manage',
      params: orgParams,
      body: inviteBody,
      responses: { 201: { description: 'The invitation (the link goes only to the address)', schema: invitationView }, 409: { description: 'already_member, invitation_pending or personal_organization' } },
    },
    async (req, res) => {
      res.status(201).json(await invitations.invite(currentScope(res), res.locals.body, requestContext(req)));
    },
  );

  api.get('/:orgId/invitations', { summary: 'Invitations, newest first (admin)', tags, auth: 'session', permission: 'members.manage', params: orgParams, responses: { 200: { description: 'Invitations', schema: items(invitationView) } } }, async (_req, res) => {
    res.json({ items: await invitations.list(currentScope(res)) });
  });

  api.delete(
    '/:orgId/invitations/:invitationId',
    { summary: 'Revoke a pending invitation (admin)', tags, auth: 'session', permission: 'members.manage', params: invitationParams, responses: { 200: { description: 'The invitation', schema: invitationView }, 409: { description: 'invitation_closed' } } },
    async (req, res) => {
      res.json(await invitations.revoke(currentScope(res), res.locals.params.invitationId, requestContext(req)));
    },
  );

  api.post(
    '/:orgId/invitations/:invitationId/resend',
    { summary: 'Send a pending invitation again with a new link and 7 more days (admin)', tags, auth: 'session', permission: 'members.manage', params: invitationParams, responses: { 200: { description: 'The invitation', schema: invitationView }, 409: { description: 'invitation_closed' } } },
    async (req, res) => {
      res.json(await invitations.resend(currentScope(res), res.locals.params.invitationId, requestContext(req)));
    },
  );

  // ---------------------------------------------------------------- API keys

  api.post(
    '/:orgId/api-keys',
    {
      summary: 'Create an API key for me in this organization (shown once)',
      description: 'The scope may not exceed my role; at each use it is capped again by my current role. Expiry: default 90 days, at most 365.',
      tags,
      auth: 'verified',
      permission: 'fleet.read',
      params: orgParams,
      body: createApiKeyBody,
      responses: { 201: { description: 'The key, with its secret shown only here', schema: createdApiKeyView }, 403: { description: 'scope_exceeds_role or session_required' } },
    },
    async (req, res) => {
      res.status(201).json(await apiKeys.create(currentScope(res), res.locals.body, requestContext(req)));
    },
  );

  api.get('/:orgId/api-keys', { summary: "My API keys (an admin sees every member's)", tags, auth: 'session', permission: 'fleet.read', params: orgParams, responses: { 200: { description: 'Keys, never their secret', schema: items(apiKeyView) } } }, async (_req, res) => {
    res.json({ items: await apiKeys.list(currentScope(res)) });
  });

  api.delete(
    '/:orgId/api-keys/:keyId',
    { summary: "Revoke an API key (mine, or as admin anyone's)", tags, auth: 'session', permission: 'fleet.read', params: apiKeyParams, responses: { 200: { description: 'The revoked key', schema: apiKeyView } } },
    async (req, res) => {
      res.json(await apiKeys.revoke(currentScope(res), res.locals.params.keyId, requestContext(req)));
    },
  );
}

/** /api/invitations: accepting needs only a login with the invited, verified address. */
export function mountInvitationAcceptRoutes(api: ApiRouter, deps: { invitations: InvitationsService }) {
  api.post(
    '/accept',
    {
      summary: 'Accept an invitation as the logged-in user (the invited, verified address)',
      tags,
      auth: 'verified',
      body: acceptBody,
      responses: { 200: { description: 'The organization I joined', schema: orgView }, 404: { description: 'Unknown, used, revoked or expired, or for another address' }, 409: { description: 'already_member' } },
    },
    async (req, res) => {
      res.json(await deps.invitations.accept(currentUser(res), res.locals.body.token, requestContext(req)));
    },
  );
}
