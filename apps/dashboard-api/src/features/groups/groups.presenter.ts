import type { GroupView } from './groups.schemas.ts';

interface GroupRow {
  id: string;
  name: string | null;
  mode: GroupView['mode'];
  dongleAId: string;
  dongleBId: string;
  createdAt: Date;
  updatedAt: Date;
}

/** No owner id: a group is only ever shown to its owner. */
export function presentGroup(group: GroupRow): GroupView {
  return {
    id: group.id,
    name: group.name,
    mode: group.mode,
    dongleAId: group.dongleAId,
    dongleBId: group.dongleBId,
    createdAt: group.createdAt.toISOString(),
    updatedAt: group.updatedAt.toISOString(),
  };
}
