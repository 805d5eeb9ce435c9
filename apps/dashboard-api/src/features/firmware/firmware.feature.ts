// Firmware images: operator routes under /api/firmware (upload as application/octet-stream, list,
// signing keys) and the agent download under /api/agent/firmware/:imageId (HTTP Range); mounted
// by src/routes (operator.ts, agent.ts).
import express, { type RequestHandler } from 'express';
import { z } from 'zod';
import { AppError, notFound } from '../../platform/errors.ts';
import type { ApiRouter } from '../../platform/http/api-router.ts';
import { listQuery, pageOf } from '../../platform/pagination.ts';
import { requestContext } from '../../platform/audit/audit-writer.ts';
import { currentAgent } from '../auth/principal.ts';
import { currentScope } from '../organizations/org-scope.ts';
import { parseRange } from './byte-range.ts';
import { agentImageParams, firmwareImageView, imageIdParams, signingKeyBody, signingKeyView, uploadQuery } from './firmware.schemas.ts';
import type { FirmwareService } from './firmware.service.ts';

/** The one route that takes a binary body (platform/http/json-body.ts lets it through). */
export const FIRMWARE_UPLOAD_ROUTE = { method: 'POST', path: /^(\/orgs\/[^/]+)?\/firmware\/images\/?$/ };

const tags = ['firmware'];

/** express.raw with the firmware limit, its errors in the API's shape. */
function imageBody(maxBytes: number): RequestHandler {
  const raw = express.raw({ type: 'application/octet-stream', limit: maxBytes });
  return (req, res, next) => {
    if (!req.is('application/octet-stream')) return next(new AppError(415, 'unsupported_media_type', 'Send the image as application/octet-stream.'));
    raw(req, res, (error?: unknown) => {
      if ((error as { type?: string } | undefined)?.type === 'entity.too.large') {
        return next(new AppError(413, 'payload_too_large', `The image is larger than ${maxBytes} bytes (FIRMWARE_MAX_BYTES).`));
      }
      next(error);
    });
  };
}

export function mountFirmwareRoutes(api: ApiRouter, deps: { firmware: FirmwareService; maxBytes: number }) {
  const { firmware } = deps;
  api.post(
    '/images',
    {
      summary: 'Upload a firmware image (application/octet-stream)',
      description: `The body is the image itself, at most FIRMWARE_MAX_BYTES (default 2 MiB): the one exception to the 100 kB JSON limit. Optional detached Ed25519 signature (base64) with the id of one of your signing keys; it must verify.`,
      tags,
      auth: 'session',
      permission: 'fleet.operate',
      query: uploadQuery,
      rawBody: { contentType: 'application/octet-stream', description: 'The firmware image bytes' },
      responses: {
        201: { description: 'Stored', schema: firmwareImageView },
        409: { description: 'firmware_version_exists' },
        413: { description: 'payload_too_large' },
        415: { description: 'Not application/octet-stream' },
        422: { description: 'Bad version/target, empty_image, unknown_signing_key, signature_invalid' },
      },
    },
    imageBody(deps.maxBytes),
    async (req, res) => {
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      res.status(201).json(await firmware.upload(currentScope(res), res.locals.query, body, requestContext(req)));
    },
  );

  api.get('/images', { summary: "The organization's firmware images, newest first (metadata)", tags, auth: 'session', permission: 'fleet.read', query: listQuery, responses: { 200: { description: 'A page of images', schema: pageOf(firmwareImageView) } } }, async (_req, res) => {
    res.json(await firmware.list(currentScope(res), res.locals.query));
  });

  api.get(
    '/images/:id',
    { summary: 'One firmware image (metadata)', tags, auth: 'session', permission: 'fleet.read', params: imageIdParams, responses: { 200: { description: 'The image', schema: firmwareImageView }, 404: { description: 'No such image in the organization' } } },
    async (_req, res) => {
      res.json(await firmware.get(currentScope(res), res.locals.params.id));
    },
  );

  api.post(
    '/signing-keys',
    { summary: 'Register an Ed25519 public key for signed images', tags, auth: 'session', permission: 'signing_keys.manage', body: signingKeyBody, responses: { 201: { description: 'Registered', schema: signingKeyView }, 422: { description: 'Not an Ed25519 public key' } } },
    async (req, res) => {
      res.status(201).json(await firmware.registerKey(currentScope(res), res.locals.body, requestContext(req)));
    },
  );

  api.get('/signing-keys', { summary: 'My signing keys', tags, auth: 'session', permission: 'fleet.read', responses: { 200: { description: 'Keys', schema: z.object({ items: z.array(signingKeyView) }) } } }, async (_req, res) => {
    res.json({ items: await firmware.listKeys(currentScope(res)) });
  });

  api.delete(
    '/signing-keys/:id',
    { summary: 'Revoke a signing key (no new upload verifies under it)', tags, auth: 'session', permission: 'signing_keys.manage', params: imageIdParams, responses: { 200: { description: 'Revoked', schema: signingKeyView }, 404: { description: 'No such key in the organization' } } },
    async (req, res) => {
      res.json(await firmware.revokeKey(currentScope(res), res.locals.params.id, requestContext(req)));
    },
  );
}

export function mountAgentFirmwareRoutes(api: ApiRouter, deps: { firmware: FirmwareService }) {
  api.get(
    '/firmware/:imageId',
    {
      summary: 'Download a firmware image this agent holds a DELIVERED update for',
      description: 'Supports a single HTTP Range (206 with Content-Range; 416 when unsatisfiable), so an interrupted download resumes. ETag is the SHA-256. 404 unless a FIRMWARE_UPDATE command naming the image is DELIVERED to this agent.',
      tags,
      auth: 'agent',
      params: agentImageParams,
      headers: { Range: { description: 'bytes=START-[END] or bytes=-SUFFIX' } },
      responses: { 200: { description: 'The image' }, 206: { description: 'The requested range' }, 404: { description: 'No delivered update for this image' }, 416: { description: 'Range not satisfiable' } },
    },
    async (req, res) => {
      const imageId = res.locals.params.imageId;
      const image = await deps.firmware.openForAgent(currentAgent(res), imageId);
      if (!image) throw notFound('Firmware image');
      const range = parseRange(req.get('range'), image.size);
      res.setHeader('Accept-Ranges', 'bytes');
      res.setHeader('ETag', `"${image.sha256}"`);
      res.setHeader('Content-Type', 'application/octet-stream');
      if (range.kind === 'unsatisfiable') {
        res.setHeader('Content-Range', `bytes */${image.size}`);
        throw new AppError(416, 'range_not_satisfiable', `The image is ${image.size} bytes.`);
      }
      const [start, end] = range.kind === 'partial' ? [range.start, range.end] : [0, image.size - 1];
      const bytes = await deps.firmware.readRange(imageId, start, end - start + 1);
      if (range.kind === 'partial') {
        res.status(206).setHeader('Content-Range', `bytes ${start}-${end}/${image.size}`);
      }
      res.setHeader('Content-Length', String(bytes.length));
      res.end(bytes);
    },
  );
}
