import { z } from 'zod';

/** §1: 16 lowercase hex characters; input is trimmed and lowercased first, anything else is a 422. */
export const deviceIdSchema = z
  .string({ message: 'deviceId must be a string.' })
  .trim()
  .toLowerCase()
  .regex(/^[0-9a-f]{16}$/, 'deviceId must be 16 hexadecimal characters.');
