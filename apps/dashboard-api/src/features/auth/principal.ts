// Who is calling, as the guards established it. Handlers read these through the helpers below
// instead of poking at res.locals, so a missing guard fails loudly.
import type { Response } from 'express';
import type { User } from '../../generated/prisma/client.ts';

/** The logged-in user as the session guard reads it (auth.sql.ts SESSION_USER). */
export type SessionUser = Pick<User, 'id' | 'email' | 'role' | 'status' | 'emailVerifiedAt'>;

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
