// The OpenAPI document without a running server or database: createApp only registers routes
// (the pg pool connects on first query, which never comes). Used by `npm run api:generate`
// (apps/api-client) and by the test that keeps the committed client in step with the routes.
import { API_INFO, API_TAGS, createApp } from './app.ts';
import { loadConfig } from './config.ts';
import { connectDatabase } from './platform/database.ts';
import { createLogger } from './platform/logger.ts';

export async function buildOpenApiDocument(): Promise<Record<string, unknown>> {
  // Port 1 on loopback: nothing listens there, so a stray query fails at once instead of hanging.
  const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', DATABASE_URL: 'postgres://openapi@127.0.0.1:1/openapi', PUBLIC_URL: 'http://localhost' });
  const logger = createLogger({ level: 'silent' });
  const db = connectDatabase({ url: config.databaseUrl!, logger });
  try {
    return createApp({ config, logger, db, sessionSecret: 'openapi-document-only-never-serves-a-request' }).openapi.document(API_INFO, API_TAGS);
  } finally {
    await db.close();
  }
}
