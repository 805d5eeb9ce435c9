// Ending sessions from inside a transaction: a session is its row in `sessions` (the
// express-session store), so deleting the row ends it on the very next request.
import type { Tx } from '../../platform/database.ts';

/** Ends every session of the user, except `keepSid` when given; returns how many ended. */
export async function endSessions(tx: Pick<Tx, 'session'>, userId: string, keepSid?: string): Promise<number> {
  const { count } = await tx.session.deleteMany({ where: { userId, ...(keepSid ? { sid: { not: keepSid } } : {}) } });
  return count;
}
