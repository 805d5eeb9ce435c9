// Request schemas of the command routes (strict: unknown keys are a 422).
import { z } from 'zod';
import { listQuery as pageQuery } from '../../platform/pagination.ts';
import { COMMAND_STATUSES } from './command.presenter.ts';

export { createCommandBody } from './command-payloads.ts';

export const idParams = z.strictObject({ id: z.uuid({ message: 'id must be a uuid.' }) });

export const listQuery = pageQuery.extend({ status: z.enum(COMMAND_STATUSES).optional() });

export const pollQuery = z.strictObject({
  /** Seconds to wait for work when none is pending. */
  wait: z.coerce.number().int().min(0).max(30).default(0),
  /** Most commands handed out by one poll. */
  limit: z.coerce.number().int().min(1).max(50).default(10),
});

export const resultBody = z
  .strictObject({
    status: z.enum(['SUCCEEDED', 'FAILED']),
    result: z.json().optional(),
    error: z.string().max(2_000).optional(),
  })
  .refine((body) => body.status === 'FAILED' || body.error === undefined, { path: ['error'], message: 'error is only for a FAILED result.' });
