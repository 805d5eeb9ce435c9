// Which errors mean "the database is unreachable right now" (→ 503 with Retry-After). The real
// faults are exercised over HTTP in test/e2e/database-faults.test.ts; this pins the shapes
// Prisma wraps them in, which a restart only produces at moments a test cannot choose.
import { describe, expect, it } from 'vitest';
import { Prisma } from '../generated/prisma/client.ts';
import { isDatabaseUnavailable } from './database.ts';

const prismaError = (message: string, code: string, meta?: Record<string, unknown>) =>
  new Prisma.PrismaClientKnownRequestError(message, { code, clientVersion: '7', meta });

describe('isDatabaseUnavailable', () => {
  it.each([
    ['a pg admin shutdown', Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' })],
    ['a pg "starting up"', Object.assign(new Error('the database system is starting up'), { code: '57P03' })],
    ['a lost connection', new Error('Connection terminated unexpectedly')],
    ['Prisma: server closed the connection', prismaError('Server has closed the connection.', 'P1017')],
    ['Prisma: transaction start timed out', prismaError('Transaction API error: Unable to start a transaction in the given time.', 'P2028')],
    ['Prisma: pool timeout', prismaError('Timed out fetching a new connection from the connection pool.', 'P2024')],
    ['Prisma: wrapped 57P03', prismaError('Raw query failed.', 'P2010', { driverAdapterError: { cause: { kind: 'postgres', originalCode: '57P03', originalMessage: 'the database system is shutting down' } } })],
    ['an adapter ConnectionClosed', { name: 'DriverAdapterError', message: 'x', cause: { kind: 'ConnectionClosed' } }],
  ])('counts %s', (_label, error) => {
    expect(isDatabaseUnavailable(error)).toBe(true);
  });

  it.each([
    ['a unique violation', prismaError('Unique constraint failed', 'P2002')],
    ['a syntax error', Object.assign(new Error('syntax error at or near "SELEC"'), { code: '42601' })],
    ['a NUL in text', Object.assign(new Error('invalid byte sequence for encoding "UTF8": 0x00'), { code: '22021' })],
  ])('does not count %s', (_label, error) => {
    expect(isDatabaseUnavailable(error)).toBe(false);
  });
});
