// Hot paths (the agent's result post) run as one raw pg transaction instead of a Prisma
// interactive transaction: measured on this machine, Prisma's transaction plus an audit create
// costs about 2 ms of CPU against 0.3 ms for the same statements on pg (doc/benchmarks.md).
// The audit row still goes through recordAudit (one writer, one scrubber): `auditClient`
// adapts a pg client to the one delegate method recordAudit uses.
import type pg from 'pg';
import type { Tx } from '../../platform/database.ts';

// A connection lost mid-transaction (pg_terminate_backend, a restart) is an 'error' on the
// client: platform/database.ts gives every pool client a listener, so it surfaces here as the
// failed query (→ 503) and never as an unhandled event that ends the process.
export async function inPgTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch((rollbackError: Error) => (broken = rollbackError));
    throw error;
  } finally {
    // A client whose ROLLBACK failed is broken: release(error) discards it instead of pooling it.
    client.release(broken);
  }
}

interface AuditData {
  actorType: string;
  actorId: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  result: string;
  ip: string | null;
  userAgent: string | null;
  details?: unknown;
}

/** The audit insert of the raw-pg hot paths (exported for the bench baseline). */
export const INSERT_AUDIT = `
INSERT INTO audit_logs (actor_type, actor_id, action, target_type, target_id, result, ip, user_agent, details)
VALUES ($1::actor_type, $2::uuid, $3, $4, $5, $6, $7, $8, $9::jsonb)`;

/** A pg client in the shape recordAudit(tx, …) writes through. */
export function auditClient(client: pg.PoolClient): Pick<Tx, 'auditLog'> {
  const create = async ({ data }: { data: AuditData }) => {
    await client.query(INSERT_AUDIT, [
      data.actorType, data.actorId, data.action, data.targetType, data.targetId, data.result, data.ip, data.userAgent,
      data.details === undefined ? null : JSON.stringify(data.details),
    ]);
  };
  return { auditLog: { create } } as unknown as Pick<Tx, 'auditLog'>;
}
