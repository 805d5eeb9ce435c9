# The API image for docker-compose.yml. Uses the same offline-capable install as everywhere:
# no Prisma engine download, migrations applied at start by the project's own migrator.
FROM node:20-bookworm-slim
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
RUN npm run prisma:generate && npm run build:web
RUN mkdir -p /data && chown node:node /data
USER node
EXPOSE 3000
CMD ["npm", "start"]
