# syntax=docker/dockerfile:1
# sta-migrate: one image for the worker, the CLI (ingest / run / report / status) and the STA
# simulator. Build: `docker build -t sta-migrate .` — or let docker-compose.yml build it.

# ---- build: compile TypeScript (needs the dev dependencies) ----------------------------------
FROM node:20-bookworm-slim AS build
WORKDIR /app
# Dependencies first so this layer is cached until package*.json change. Scripts are skipped
# here only because `prepare` compiles src/, which is not copied yet; `npm run build` does it below.
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY jobs ./jobs
COPY fixtures ./fixtures
RUN npm run build

# ---- runtime: production dependencies, compiled code, non-root -------------------------------
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    REPORT_DIR=/app/reports
WORKDIR /app
# --ignore-scripts: `prepare` runs tsc, a dev dependency that is not installed here. No production
# dependency needs its install script (msgpackr-extract ships prebuilt binaries and bullmq falls
# back to plain JS without them).
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY bin ./bin
# `demo` reads fixtures/demo; the committed sample exports are handy for a first try.
COPY fixtures ./fixtures
# The code stays root-owned (read-only for the app); only the report folder is writable.
RUN mkdir -p /app/reports && chown node:node /app/reports
USER node

# Healthy while Redis answers: `status` exits 0 after a PING and a read of the run list, 2 when
# Redis is unreachable (3 s ping timeout). docker-compose.yml overrides it for the simulator.
HEALTHCHECK --interval=30s --timeout=15s --start-period=20s --retries=3 \
  CMD ["node", "bin/sta-migrate.js", "status"]

ENTRYPOINT ["node", "bin/sta-migrate.js"]
CMD ["--help"]
