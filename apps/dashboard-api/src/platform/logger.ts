import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

/**
 * Paths pino censors. Secrets must never reach a log line: cookies, bearer tokens, passwords,
 * one-time enrollment codes and tokens. (Not a bare `code`: errors carry their SQLSTATE or errno
 * there, the first thing an operator needs; request bodies, where one-time codes travel, are
 * never logged.)
 */
const REDACT_PATHS = [
  'req.headers.cookie',
  'req.headers.authorization',
  'res.headers["set-cookie"]',
  'headers.cookie',
  'headers.authorization',
  '*.password',
  '*.currentPassword',
  '*.newPassword',
  '*.passwordHash',
  '*.token',
  '*.enrollmentCode',
  'body.code',
  '*.csrfToken',
  '*.sessionSecret',
  'password',
  'token',
];

export function createLogger(options: { level: string; destination?: DestinationStream }): Logger {
  return pino(
    {
      level: options.level,
      base: { service: 'dashboard-api' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination,
  );
}
