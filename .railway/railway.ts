/**
 * Railway Infrastructure as Code for mcp-lab: the replacement for Config as Code, which Railway
 * stops reading on 2026-12-01. It mirrors ../railway.json (Dockerfile build, GET /health check,
 * restart on failure, 10 s drain) and adds the Ollama service and its volume.
 *
 *   railway link                 # pick the project and environment
 *   railway config plan          # shows what would change; changes nothing
 *   railway config apply         # applies it after you confirm
 *   railway up --service mcp-lab # builds this directory's Dockerfile and deploys it
 *
 * Plain data, no imports: the CLI evaluates this file with Node (type stripping) and reads the
 * default export -- the same project definition that the `railway/iac` helpers (`service()`,
 * `image()`, `volume()`) build. The types below are a local subset of that package's types.
 *
 * Names on the private network: <service>.railway.internal. Environments created before
 * 2025-10-16 resolve them to IPv6 only, so both services listen on every IPv6 and IPv4 address.
 * Railway injects PORT; mcp-lab listens on it, and Railway's deploy-time health check (sent
 * with `Host: healthcheck.railway.app`) goes to it.
 * Variables that exist in Railway but not here are deleted by `apply`; secrets are therefore
 * listed with { type: "preserve" } and set outside this file:
 *   railway variable set --service mcp-lab MCP_AUTH_TOKEN=$(openssl rand -hex 32)
 *   railway variable set --service mcp-lab OPENAI_API_KEY=sk-...      # optional
 */

type Variable = { type: "literal"; value: string } | { type: "preserve" };

type DeployConfig = {
  healthcheckPath?: string;
  healthcheckTimeout?: number;
  restartPolicyType?: "ON_FAILURE" | "ALWAYS" | "NEVER";
  restartPolicyMaxRetries?: number;
  drainingSeconds?: number;
};

type ServiceResource = {
  address: `service.${string}`;
  type: "service";
  name: string;
  /** "empty": no source here (`railway up` deploys this directory); "docker-image": `source.image`. */
  kind: "empty" | "docker-image";
  source?: { type: "image"; image: string };
  build?: { builder: "DOCKERFILE"; dockerfilePath: string };
  deploy?: DeployConfig;
  variables?: Record<string, Variable>;
  volumeAttachments?: Record<string, { volume: `volume.${string}`; mountPath: string; volumeConfig?: { sizeMB: number } }>;
};

type VolumeResource = {
  address: `volume.${string}`;
  type: "volume";
  name: string;
  config?: { sizeMB: number; region?: string };
};

type RailwayProject = { name: string; resources: Array<ServiceResource | VolumeResource> };

const literal = (value: string): Variable => ({ type: "literal", value });
const preserve: Variable = { type: "preserve" };

/** Same settings as railway.json: Dockerfile build, health check, restart policy, drain. */
const mcpLab: ServiceResource = {
  address: "service.mcp-lab",
  type: "service",
  name: "mcp-lab",
  kind: "empty",
  build: { builder: "DOCKERFILE", dockerfilePath: "Dockerfile" },
  deploy: {
    healthcheckPath: "/health",
    healthcheckTimeout: 60,
    restartPolicyType: "ON_FAILURE",
    restartPolicyMaxRetries: 5,
    // SIGTERM -> SIGKILL gap for the old deployment (Railway's default is 0); the server drains
    // calls in flight for up to SHUTDOWN_TIMEOUT_MS = 7 s.
    drainingSeconds: 10,
  },
  variables: {
    HOST: literal("::"),
    OLLAMA_BASE_URL: literal("http://ollama.railway.internal:11434"),
    LLM_MODEL: literal("qwen3:4b"),
    // The public domain clients use (generate it with `railway domain --service mcp-lab`).
    ALLOWED_HOSTS: literal("${{RAILWAY_PUBLIC_DOMAIN}}"),
    // Secrets: kept as set in Railway, never written here.
    MCP_AUTH_TOKEN: preserve,
    OPENAI_API_KEY: preserve,
  },
};

const ollamaModels: VolumeResource = {
  address: "volume.ollama-models",
  type: "volume",
  name: "ollama-models",
  config: { sizeMB: 20_000 },
};

/** CPU only: small models (qwen3:4b, gemma3:4b, qwen3:1.7b). Pull: `railway ssh --service ollama ollama pull qwen3:4b`. */
const ollama: ServiceResource = {
  address: "service.ollama",
  type: "service",
  name: "ollama",
  kind: "docker-image",
  source: { type: "image", image: "ollama/ollama" },
  deploy: {
    // Ollama answers GET / with 200 "Ollama is running"; PORT below tells Railway where.
    healthcheckPath: "/",
    healthcheckTimeout: 120,
    restartPolicyType: "ON_FAILURE",
    restartPolicyMaxRetries: 5,
    drainingSeconds: 10,
  },
  variables: {
    // [::] binds IPv6 and IPv4: reachable on IPv6-only private networks too.
    OLLAMA_HOST: literal("[::]:11434"),
    PORT: literal("11434"),
    OLLAMA_KEEP_ALIVE: literal("30m"),
    OLLAMA_NUM_PARALLEL: literal("1"),
  },
  volumeAttachments: {
    "ollama-models": { volume: ollamaModels.address, mountPath: "/root/.ollama", volumeConfig: { sizeMB: 20_000 } },
  },
};

const project: RailwayProject = { name: "mcp-lab", resources: [mcpLab, ollama, ollamaModels] };

export default project;
