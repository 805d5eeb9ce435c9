// Prisma 7 reads the connection from here, not from schema.prisma. Only `prisma generate`
// and `prisma validate` run through the CLI in this project (scripts/prisma-cli.mjs); the
// migrations are applied by apps/dashboard-api/src/tooling/migrator.ts, which needs no download.
import { defineConfig } from 'prisma/config';

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? 'postgresql://localhost:5432/fleet' },
});
