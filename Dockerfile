# mcp-lab: MCP server (streamable HTTP on /mcp, legacy SSE on /sse) for Ollama and
# OpenAI-compatible models.
#
#   docker build -t mcp-lab .
#   docker run --rm -p 127.0.0.1:8080:8080 --add-host=host.docker.internal:host-gateway \
#     -e MCP_AUTH_TOKEN="$MCP_AUTH_TOKEN" -e OLLAMA_BASE_URL=http://host.docker.internal:11434 \
#     -e ALLOWED_HOSTS=localhost,127.0.0.1 mcp-lab
#
# The image listens on :: (every address), so it starts only with MCP_AUTH_TOKEN (clients send
# `Authorization: Bearer <token>`). --add-host gives Linux the host.docker.internal that Docker
# Desktop has built in; on Linux the host's Ollama must then listen beyond 127.0.0.1 (README, pattern 2).
#
# Stages: base (pnpm) -> store (every package of the lockfile, downloaded once) -> deps (all
# dependencies) -> build (tsc to dist/) ; store -> prod-deps (production dependencies only) ;
# runtime = node:24-slim + prod node_modules + dist/ + package.json, as user `node`.
# No `RUN --mount=type=cache`: Railway rejects cache ids not of its own form.

# ---- base: Node + pnpm (corepack is not used: its signature check fails behind some mirrors) ----
FROM node:24-slim AS base
ENV npm_config_store_dir=/pnpm/store \
    npm_config_update_notifier=false \
    CI=true
RUN npm install -g --no-audit --no-fund --loglevel=error pnpm@10.34.9 \
 && npm cache clean --force
WORKDIR /app

# ---- store: fetch every package named in the lockfile (dev and prod) into pnpm's store ----
FROM base AS store
COPY pnpm-lock.yaml pnpm-workspace.yaml ./
# patchedDependencies in pnpm-workspace.yaml (fastmcp) are applied from here.
COPY patches ./patches
RUN pnpm fetch --frozen-lockfile

# ---- deps: all dependencies, for the build ----
FROM store AS deps
COPY package.json ./
RUN pnpm install --frozen-lockfile --offline

# ---- build: compile src/ to dist/ ----
FROM deps AS build
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN pnpm build

# ---- prod-deps: production dependencies only (no typescript, vitest, tsx, esbuild) ----
# `pnpm fetch` also fills node_modules/.pnpm with every package; start from an empty
# node_modules so only production packages are linked in (the store keeps it offline).
FROM store AS prod-deps
COPY package.json ./
# Source maps and TypeScript sources/declarations are never loaded at run time: dropping them
# takes about 60 MB off the image (licences and READMEs stay).
RUN rm -rf node_modules \
 && pnpm install --prod --frozen-lockfile --offline \
 && find node_modules/.pnpm -type f \( -name '*.map' -o -name '*.ts' -o -name '*.mts' -o -name '*.cts' \) -delete

# ---- runtime ----
FROM node:24-slim AS runtime
ENV NODE_ENV=production \
    HOST=:: \
    PORT=8080 \
    DATA_DIR=/data
# The embedded state store (PGlite) lives in /data: mount a volume there (compose, Fly, Railway do),
# or set DATABASE_URL to a PostgreSQL server. Owned by the app user, so a fresh volume is writable.
RUN mkdir /data && chown node:node /data
VOLUME ["/data"]
WORKDIR /app
# Owned by root and read-only to the app user. src/version.ts reads ../package.json from dist/.
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
# Every module the server loads, compiled once here into V8's code cache: a new container (a Fly
# Machine waking up, a Railway deploy) starts ~90 ms sooner (BENCHMARKS.md, compile cache). It is
# compiled as `node` (the cache is per user) with CMD's flag (V8 rejects a cache built with other
# flags), then handed back to root: read-only at run time, where Node just skips writing.
ENV NODE_COMPILE_CACHE=/app/node-compile-cache
RUN mkdir node-compile-cache && chown node:node node-compile-cache
USER node
RUN node --max-semi-space-size=4 --input-type=module -e "await import('./dist/main.js')" \
 && test -n "$(ls -A node-compile-cache)"
USER root
RUN chown -R root:root node-compile-cache && chmod -R a+rX node-compile-cache
USER node
EXPOSE 8080
# Liveness only (touches no model provider); no curl in the slim image, so Node's fetch.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# The server drains calls in flight on SIGTERM (SHUTDOWN_TIMEOUT_MS, 7 s) and exits 0.
STOPSIGNAL SIGTERM
# A 4 MB young generation instead of V8's host-sized one: ~20 MB less RSS idle and ~110 MB less
# after heavy session churn (BENCHMARKS.md, section 5), for ~8 % more CPU per call under load.
CMD ["node", "--max-semi-space-size=4", "dist/index.js"]
