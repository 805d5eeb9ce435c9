// One place for query keys, so mutations (and later the event stream) invalidate the right views.
import type { AuditFilters } from './api.ts';

export const queryKeys = {
  session: ['session'] as const,
  dongles: ['dongles'] as const,
  dongle: (id: string) => ['dongles', id] as const,
  canConfig: (id: string) => ['dongles', id, 'can-config'] as const,
  commands: (dongleId: string) => ['dongles', dongleId, 'commands'] as const,
  discovered: ['discovered'] as const,
  agents: ['agents'] as const,
  groups: ['groups'] as const,
  mySessions: ['me', 'sessions'] as const,
  users: (query: object) => ['admin', 'users', query] as const,
  audit: (filters: AuditFilters) => ['admin', 'audit', filters] as const,
};
