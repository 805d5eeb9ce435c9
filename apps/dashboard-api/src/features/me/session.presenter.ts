import type { SessionView } from './me.schemas.ts';

export interface SessionRow {
  id: string;
  k: string;
  ip: string | null;
  user_agent: string | null;
  created_at: Date;
  expire: Date;
  refreshed_at: string | null;
  current: boolean;
}

export function presentSession(row: SessionRow): SessionView {
  const refreshed = row.refreshed_at ? new Date(Number(row.refreshed_at)) : row.created_at;
  return {
    id: row.id,
    current: row.current,
    createdAt: row.created_at.toISOString(),
    lastActiveAt: refreshed.toISOString(),
    expiresAt: row.expire.toISOString(),
    ip: row.ip,
    userAgent: row.user_agent,
  };
}
