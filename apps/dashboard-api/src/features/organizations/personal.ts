// A user's personal organization: created with the user (trigger users_create_personal_organization),
// never shared, never deleted while the user exists. Unscoped v0.7 routes act in it.
import type { Database, Tx } from '../../platform/database.ts';

export async function personalOrganizationId(client: Tx | Database['prisma'], userId: string): Promise<string> {
  const org = await client.organization.findUniqueOrThrow({ where: { personalOwnerUserId: userId }, select: { id: true } });
  return org.id;
}
