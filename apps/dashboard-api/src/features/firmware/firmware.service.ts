// Firmware images and the Ed25519 keys that sign them. An image is stored in PostgreSQL (bytea)
// with its SHA-256 and size; a signed one is verified at upload against a key its organization
// registered, so an image marked signed always verified. Another organization's image or key is a 404.
import { createHash } from 'node:crypto';
import { Prisma, type FirmwareImage, type SigningKey } from '../../generated/prisma/client.ts';
import type { Database } from '../../platform/database.ts';
import { AppError, conflict, notFound } from '../../platform/errors.ts';
import { inIdOrder, pageIds, type ListQuery, type Page } from '../../platform/pagination.ts';
import { recordAudit, type RequestContext } from '../../platform/audit/audit-writer.ts';
import type { AgentPrincipal } from '../auth/principal.ts';
import type { OrgScope } from '../organizations/org-scope.ts';
import type { FirmwareImageView, UploadQuery } from './firmware.schemas.ts';
import { parseEd25519PublicKey, verifyEd25519 } from './signatures.ts';

export function presentImage(image: Omit<FirmwareImage, 'data'>): FirmwareImageView {
  return {
    id: image.id,
    version: image.version,
    chipFamily: image.chipFamily,
    boardRevision: image.boardRevision,
    size: image.size,
    sha256: image.sha256,
    signed: image.signature !== null,
    signingKeyId: image.signingKeyId,
    createdAt: image.createdAt.toISOString(),
  };
}

export function presentKey(key: SigningKey) {
  return { id: key.id, name: key.name, publicKey: Buffer.from(key.publicKey).toString('base64'), revokedAt: key.revokedAt?.toISOString() ?? null, createdAt: key.createdAt.toISOString() };
}

const withoutData = { id: true, organizationId: true, createdByUserId: true, version: true, chipFamily: true, boardRevision: true, size: true, sha256: true, signature: true, signingKeyId: true, createdAt: true } as const;

export function createFirmwareService(deps: { db: Database }) {
  const { prisma, pool } = deps.db;

  async function upload(scope: OrgScope, meta: UploadQuery, data: Buffer, context: RequestContext): Promise<FirmwareImageView> {
    if (data.length === 0) throw new AppError(422, 'empty_image', 'The image is empty: send its bytes as application/octet-stream.');
    const sha256 = createHash('sha256').update(data).digest('hex');
    return prisma.$transaction(async (tx) => {
      let signature: Buffer | null = null;
      if (meta.signature && meta.signingKeyId) {
        const key = await tx.signingKey.findFirst({ where: { id: meta.signingKeyId, organizationId: scope.orgId, revokedAt: null } });
        if (!key) throw new AppError(422, 'unknown_signing_key', "signingKeyId is not one of the organization's registered, unrevoked signing keys.");
        signature = Buffer.from(meta.signature, 'base64');
        if (!verifyEd25519(Buffer.from(key.publicKey), data, signature)) {
          throw new AppError(422, 'signature_invalid', 'The signature does not verify against that key for these bytes.');
        }
      }
      const exists = await tx.firmwareImage.findFirst({ where: { organizationId: scope.orgId, chipFamily: meta.chipFamily, boardRevision: meta.boardRevision, version: meta.version }, select: { id: true } });
      if (exists) throw conflict('firmware_version_exists', `Version ${meta.version} for ${meta.chipFamily}/${meta.boardRevision} is already uploaded.`);
      const image = await tx.firmwareImage.create({
        data: { organizationId: scope.orgId, createdByUserId: scope.userId, version: meta.version, chipFamily: meta.chipFamily, boardRevision: meta.boardRevision, size: data.length, sha256, data: new Uint8Array(data), signature: signature ? new Uint8Array(signature) : null, signingKeyId: signature ? meta.signingKeyId : null },
        select: withoutData,
      });
      await recordAudit(tx, {
        actor: { type: 'user', id: scope.userId },
        action: 'firmware.upload',
        targetType: 'firmware_image',
        targetId: image.id,
        details: { version: image.version, chipFamily: image.chipFamily, boardRevision: image.boardRevision, size: image.size, sha256, signed: signature !== null, keyId: image.signingKeyId },
        context,
      });
      return presentImage(image);
    });
  }

  /** One page of the organization's images, newest first (metadata). */
  async function list(scope: OrgScope, query: ListQuery): Promise<Page<FirmwareImageView>> {
    const { ids, nextCursor } = await pageIds(prisma, 'firmware_images', Prisma.sql`organization_id = ${scope.orgId}::uuid`, query);
    const images = await prisma.firmwareImage.findMany({ where: { id: { in: ids } }, select: withoutData });
    return { items: inIdOrder(ids, images).map(presentImage), nextCursor };
  }

  async function get(scope: OrgScope, id: string): Promise<FirmwareImageView> {
    const image = await prisma.firmwareImage.findFirst({ where: { id, organizationId: scope.orgId }, select: withoutData });
    if (!image) throw notFound('Firmware image');
    return presentImage(image);
  }

  async function registerKey(scope: OrgScope, body: { name: string; publicKey: string }, context: RequestContext) {
    const raw = parseEd25519PublicKey(body.publicKey);
    if (!raw) throw new AppError(422, 'validation_failed', 'The request is not valid.', [{ path: 'body.publicKey', message: 'publicKey must be an Ed25519 public key: 32 bytes in base64, or PEM.' }]);
    return prisma.$transaction(async (tx) => {
      const key = await tx.signingKey.create({ data: { organizationId: scope.orgId, name: body.name, publicKey: new Uint8Array(raw) } });
      await recordAudit(tx, { actor: { type: 'user', id: scope.userId }, action: 'firmware.signing_key.register', targetType: 'signing_key', targetId: key.id, details: { name: key.name }, context });
      return presentKey(key);
    });
  }

  async function listKeys(scope: OrgScope) {
    return (await prisma.signingKey.findMany({ where: { organizationId: scope.orgId }, orderBy: { createdAt: 'desc' } })).map(presentKey);
  }

  /** A revoked key verifies no new upload; images already verified under it stay signed. */
  async function revokeKey(scope: OrgScope, id: string, context: RequestContext) {
    return prisma.$transaction(async (tx) => {
      const [locked] = await tx.$queryRaw<{ id: string }[]>`SELECT id FROM signing_keys WHERE id = ${id}::uuid AND organization_id = ${scope.orgId}::uuid FOR UPDATE`;
      if (!locked) throw notFound('Signing key');
      const key = await tx.signingKey.update({ where: { id }, data: { revokedAt: new Date() } });
      await recordAudit(tx, { actor: { type: 'user', id: scope.userId }, action: 'firmware.signing_key.revoke', targetType: 'signing_key', targetId: id, context });
      return presentKey(key);
    });
  }

  /**
   * The agent download: the image (or a byte range of it) only while the agent holds a DELIVERED
   * FIRMWARE_UPDATE command naming it; otherwise undefined (the route answers 404).
   */
  async function openForAgent(agent: AgentPrincipal, imageId: string): Promise<{ size: number; sha256: string } | undefined> {
    const { rows } = await pool.query<{ size: number; sha256: string }>(
      `SELECT i.size, i.sha256 FROM firmware_images i
        WHERE i.id = $1::uuid
          AND EXISTS (SELECT 1 FROM commands c
                       WHERE c.agent_id = $2::uuid AND c.status = 'DELIVERED' AND c.type = 'FIRMWARE_UPDATE'
                         AND c.payload->>'imageId' = $1::text)`,
      [imageId, agent.id],
    );
    return rows[0];
  }

  async function readRange(imageId: string, start: number, length: number): Promise<Buffer> {
    const { rows } = await pool.query<{ part: Buffer }>(`SELECT substring(data FROM $2::int FOR $3::int) AS part FROM firmware_images WHERE id = $1::uuid`, [imageId, start + 1, length]);
    return rows[0]?.part ?? Buffer.alloc(0);
  }

  return { upload, list, get, registerKey, listKeys, revokeKey, openForAgent, readRange };
}

export type FirmwareService = ReturnType<typeof createFirmwareService>;
