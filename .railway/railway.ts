/**
 * Railway Infrastructure as Code for mcp-lab: the two services (mcp-lab from this directory's
 * Dockerfile, Ollama from its image, with a volume) in Railway's documented TypeScript form
 * (https://docs.railway.com/infrastructure-as-code). Needs the Railway CLI 5.42.1 or newer (it
 * evaluates this file with the `node` on PATH, resolving `railway/iac` from this project's
 * node_modules: run `pnpm install` first).
 *
 *   railway link                 # pick the project and environment
 *   railway config plan          # shows what would change; changes nothing
 *   railway config apply         # applies it after you confirm
 *   railway up --service mcp-lab # builds this directory's Dockerfile and deploys it
 *
 * `railway config apply` deletes every variable of these services that this file does not declare.
 * So every variable the server reads (.env.example) is declared below: set here (a value), or
 * `preserve()`d -- kept as you set it with `railway variable set` or in the dashboard. A variable
 * set here belongs here: change it in this file, not by hand. test/deploy.test.ts checks the list.
 *
 * Names on the private network: <service>.railway.internal. Environments created before
 * 2025-10-16 resolve them to IPv6 only, so both services listen on every IPv6 and IPv4 address.
 * Railway injects PORT; mcp-lab listens on it, and Railway's deploy-time health check (sent
 * with `Host: healthcheck.railway.app`) goes to it.
 */
import { defineRailway, image, preserve, project, service, volume } from "railway/iac";

/** A fixed Ollama release, the same as docker-compose.yml and deploy/fly/ollama.fly.toml. */
const OLLAMA_IMAGE = "ollama/ollama:0.33.3";

/** Variables of mcp-lab that are yours to set by hand (secrets among them): apply keeps them. */
const SET_BY_HAND = [
  // secrets
  "MCP_AUTH_TOKEN",
  "OPENAI_API_KEY",
  "METRICS_TOKEN",
  "CONNECTOR_OWNER_PASSWORD",
  // everything else the server reads
  "PORT",
  "MCP_TRANSPORT",
  "MCP_STATELESS",
  "MCP_ALLOW_UNAUTHENTICATED",
  "ALLOWED_ORIGINS",
  "MAX_BODY_BYTES",
  "RATE_LIMIT_PER_MINUTE",
  "MAX_PROMPT_CHARS",
  "MAX_SESSIONS",
  "MAX_SESSIONS_PER_TOKEN",
  "MAX_SESSIONS_PER_ADDRESS",
  "SESSION_IDLE_TIMEOUT_MS",
  "AUTH_FAILURES_PER_MINUTE",
  "MAX_CONNECTIONS",
  "READY_CACHE_MS",
  "PULL_ENABLED",
  "PULL_ALLOWED",
  "OPENAI_BASE_URL",
  "FALLBACK_MODELS",
  "LOCAL_ONLY",
  "WARM_MODELS",
  "MODEL_ALIASES",
  "USAGE_RETENTION_DAYS",
  "LLM_CONNECT_TIMEOUT_MS",
  "LLM_FIRST_TOKEN_TIMEOUT_MS",
  "LLM_IDLE_TIMEOUT_MS",
  "LLM_TOTAL_TIMEOUT_MS",
  "PULL_TIMEOUT_MS",
  "LLM_MAX_RETRIES",
  "LLM_RETRY_BASE_DELAY_MS",
  "OLLAMA_CONCURRENCY",
  "OPENAI_CONCURRENCY",
  "LLM_QUEUE_MAX",
  "LLM_QUEUE_TIMEOUT_MS",
  "LLM_QUEUE_MAX_PER_TOKEN",
  "LLM_MAX_OUTPUT_TOKENS",
  "OLLAMA_MAX_NUM_CTX",
  "OLLAMA_MAX_KEEP_ALIVE_MS",
  "MAX_OUTPUT_CHARS",
  "PROGRESS_INTERVAL_MS",
  "CONVERSATION_TTL_MS",
  "CONVERSATION_MAX_TURNS",
  "CONVERSATION_MAX_BYTES",
  "CONVERSATION_MAX_BYTES_PER_TOKEN",
  "READY_TIMEOUT_MS",
  "MODELS_CACHE_TTL_MS",
  "SHUTDOWN_TIMEOUT_MS",
  "ASYNC_AFTER_MS",
  "JOB_TTL_MS",
  "JOB_HEARTBEAT_MS",
  "JOB_MAX_RUNNING_PER_TOKEN",
  "JOB_MAX_PER_TOKEN",
  "JOB_MAX_TOTAL",
  "DATA_DIR",
  "DATABASE_URL",
  "PUBLIC_URL",
  "EMBED_MODEL",
  "EMBED_DIMENSIONS",
  "DOCS_MAX_DOCUMENT_BYTES",
  "DOCS_MAX_BYTES_PER_TOKEN",
  "ADD_DOCUMENT_ENABLED",
  "LOG_LEVEL",
] as const;

/** Ollama settings often tuned by hand (context size, memory): apply keeps them too. */
const OLLAMA_SET_BY_HAND = ["OLLAMA_CONTEXT_LENGTH", "OLLAMA_MAX_LOADED_MODELS", "OLLAMA_FLASH_ATTENTION", "OLLAMA_DEBUG"] as const;

const preserved = (names: readonly string[]) => Object.fromEntries(names.map((name) => [name, preserve()]));

export default defineRailway(() => {
  const ollamaModels = volume("ollama-models", { sizeMB: 20_000 });

  /** CPU only: small models (qwen3:4b, gemma3:4b, qwen3:1.7b); give it 8 GB. */
  const ollama = service("ollama", {
    source: image(OLLAMA_IMAGE),
    // Ollama answers GET / with 200 "Ollama is running"; PORT below tells Railway where.
    healthcheck: "/",
    healthcheckTimeout: 120,
    deploy: { restartPolicyType: "ON_FAILURE", restartPolicyMaxRetries: 5, drainingSeconds: 10 },
    env: {
      // [::] binds IPv6 and IPv4: reachable on IPv6-only private networks too.
      OLLAMA_HOST: "[::]:11434",
      PORT: "11434",
      OLLAMA_KEEP_ALIVE: "30m",
      OLLAMA_NUM_PARALLEL: "1",
      ...preserved(OLLAMA_SET_BY_HAND),
    },
    volumeMounts: { "/root/.ollama": ollamaModels },
  });

  /** Conversations (the embedded store, DATA_DIR=/data); or set DATABASE_URL to a Railway Postgres instead. */
  const mcpLabData = volume("mcp-lab-data", { sizeMB: 1_000 });

  /** No source here: `railway up --service mcp-lab` (or a linked repository) deploys this directory. */
  const mcpLab = service("mcp-lab", {
    build: { builder: "DOCKERFILE", dockerfilePath: "Dockerfile" },
    healthcheck: "/health",
    healthcheckTimeout: 60,
    deploy: {
      restartPolicyType: "ON_FAILURE",
      restartPolicyMaxRetries: 5,
      // SIGTERM -> SIGKILL gap for the old deployment (Railway's default is 0); the server drains
      // calls in flight for up to SHUTDOWN_TIMEOUT_MS = 7 s.
      drainingSeconds: 10,
    },
    env: {
      HOST: "::",
      // Ollama's private name, as the reference ollama.env.RAILWAY_PRIVATE_DOMAIN resolves it,
      // inside a URL (a typed reference can only be a whole value).
      OLLAMA_BASE_URL: `http://\${{${ollama.name}.RAILWAY_PRIVATE_DOMAIN}}:11434`,
      LLM_MODEL: "qwen3:4b",
      // The public domain clients use (generate it with `railway domain --service mcp-lab`).
      ALLOWED_HOSTS: "${{RAILWAY_PUBLIC_DOMAIN}}",
      // Railway's edge writes the client's address here (its public-networking reference).
      CLIENT_IP_HEADER: "x-real-ip",
      ...preserved(SET_BY_HAND),
    },
    volumeMounts: { "/data": mcpLabData },
  });

  return project("mcp-lab", { resources: [mcpLab, ollama, ollamaModels, mcpLabData] });
});
