// Who is calling, as the guards established it. Handlers read these through the helpers below
// instead of poking at res.locals, so a missing guard fails loudly.
import type { Response } from 'express';
import type { UserRole, UserStatus } from '../../generated/prisma/enums.ts';

export interface SessionUser {
  id: string;
  email: string;
  role: UserRole;
  status: UserStatus;
  emailVerifiedAt: Date | null;
}

export interface AgentPrincipal {
  id: string;
  /** Who enrolled it (kept for the record). */
  userId: string;
  /** The organization the agent serves: it reports and hands out only that fleet's dongles. */
  organizationId: string;
  tokenId: string;
  lastSeenAt: Date | null;
  /** The software version the agent last reported (heartbeat), as stored. */
  version: string | null;
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Locals {
      requestId: string;
      user?: SessionUser;
      agent?: AgentPrincipal;
      userId?: string;
      agentId?: string;
    }
  }
}

export function currentUser(res: Response): SessionUser {
  const user = res.locals.user as SessionUser | undefined;
  if (!user) throw new Error('currentUser() on a route without a session guard');
  return user;
}

export function currentAgent(res: Response): AgentPrincipal {
  const agent = res.locals.agent as AgentPrincipal | undefined;
  if (!agent) throw new Error('currentAgent() on a route without the agent guard');
  return agent;
}
