# syntax=docker/dockerfile:1
# Switchboard: build with the toolchain, run without it.
#   docker build -t switchboard .
#   docker run -p 3000:3000 -v switchboard-data:/data -e OPENAI_WEBHOOK_SECRET=whsec_... switchboard
# scripts/build-like-docker.sh runs the same steps without Docker.

# Both stages run Node 24 (LTS). The build stage is pinned to 24.18.1 because better-sqlite3 12
# compiled against the headers of 24.19 or later aborts the process when a statement is
# garbage-collected outside a JS context (nodejs/node#65446); built against 24.18.1, the module
# also runs on later 24.x releases (same ABI), so the runtime stage follows the 24 line.
# --- build: compiles TypeScript and better-sqlite3's native module for this image's platform
FROM node:24.18.1-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
# The package's own `prepare` script builds dist/ and needs the sources, which come later (so
# that this layer stays cached while only code changes): scripts are skipped here, and the one
# install script the service needs, better-sqlite3's native build, runs explicitly.
RUN npm ci --no-audit --no-fund --ignore-scripts && npm rebuild better-sqlite3
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY src ./src
COPY console ./console
COPY scripts/build-console.js ./scripts/
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

# --- runtime: production dependencies and the build output only, as a non-root user
FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production \
    DATA_DIR=/data \
    PORT=3000
WORKDIR /app
COPY --from=build --chown=node:node /app/package.json ./
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
COPY --chown=node:node rules ./rules
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
    CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "dist/main.js"]
