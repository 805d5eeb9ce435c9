# The API image for docker-compose.yml, on the current Node LTS line (README: supported lines).
# Stage 1 installs everything and compiles once (tsc → apps/dashboard-api/dist, the generated
# Prisma client included); stage 2 holds production dependencies and the compiled JavaScript only.
# No Prisma engine download: migrations are applied at start by the project's own migrator.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.base.json prisma.config.ts ./
COPY scripts ./scripts
COPY prisma ./prisma
COPY apps/dashboard-api/package.json apps/dashboard-api/
COPY apps/agent-sim/package.json apps/agent-sim/
COPY apps/dashboard-web/package.json apps/dashboard-web/
COPY apps/api-client/package.json apps/api-client/
RUN npm ci --no-audit --no-fund
COPY apps ./apps
# build: the API (tsc → dist) and the web dashboard (Vite → apps/dashboard-web/dist).
RUN npm run build

FROM node:24-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
COPY apps/dashboard-api/package.json apps/dashboard-api/
COPY apps/agent-sim/package.json apps/agent-sim/
COPY apps/dashboard-web/package.json apps/dashboard-web/
COPY apps/api-client/package.json apps/api-client/
# No install scripts: the Prisma client is already compiled into dist/, argon2 loads its prebuilt
# binary without one, and the embedded PostgreSQL is not used here (DATABASE_URL is set).
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY prisma/migrations ./prisma/migrations
COPY --from=build /app/apps/dashboard-api/dist ./apps/dashboard-api/dist
COPY --from=build /app/apps/dashboard-web/dist ./apps/dashboard-web/dist
RUN mkdir -p /data && chown node:node /data
USER node
EXPOSE 3000
# Exec form, node itself as PID 1: `docker stop`'s SIGTERM reaches the server, which drains and
# exits (a shell or npm in between left node orphaned, issue 9). Maintenance commands run the same
# compiled code: docker compose run --rm api node apps/dashboard-api/dist/cli/db.js status
CMD ["node", "apps/dashboard-api/dist/main.js"]
