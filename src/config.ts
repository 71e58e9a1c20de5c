import { resolve } from "node:path";
import { type Env, envSchema, list, SECRET_VARIABLES } from "./env.js";

/** Thrown when the environment does not describe a valid configuration. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

export type Config = {
  port: number;
  host: string;
  transport: "http" | "stdio";
  stateless: boolean;
  ollama: { baseUrl: string };
  openai: { apiKey: string | undefined; baseUrl: string };
  defaultModel: string;
  logLevel: Env["LOG_LEVEL"];
  modelsCacheTtlMs: number;
  timeouts: { connectMs: number; firstTokenMs: number; idleMs: number; totalMs: number; pullMs: number; readyMs: number; shutdownMs: number };
  retries: { max: number; baseDelayMs: number };
  concurrency: { ollama: number; openai: number; queueMax: number; queueMaxPerOwner: number; queueTimeoutMs: number };
  caps: { maxOutputTokens: number; maxNumCtx: number; maxKeepAliveMs: number };
  /** pull_model: off unless enabled (on by default only when the server listens on loopback or stdio). */
  pull: { enabled: boolean; allowed: string[] };
  fallbackModels: string[];
  localOnly: boolean;
  warmModels: string[];
  /** The OpenAI- and Anthropic-compatible endpoints (/v1/*): MODEL_ALIASES, and how long usage per token is kept. */
  api: { aliases: Array<{ pattern: string; model: string }>; usageRetentionDays: number };
  maxOutputChars: number;
  progressIntervalMs: number;
  conversations: { ttlMs: number; maxTurns: number; maxBytes: number; maxBytesPerOwner: number };
  /** Generations still running after `asyncAfterMs` continue as jobs, collected with get_job. */
  jobs: { asyncAfterMs: number; ttlMs: number; heartbeatMs: number; maxRunningPerOwner: number; maxPerOwner: number; maxTotal: number };
  /** Durable state: PGlite under `dataDir`, or the PostgreSQL server at `databaseUrl` when set. */
  state: { dataDir: string; databaseUrl: string | undefined };
  /** The connector door (OAuth on /connector/mcp): on when CONNECTOR_OWNER_PASSWORD is set, over HTTP. */
  connector: { publicUrl: string; ownerPassword: string } | undefined;
  /** Document search: the Ollama embedding model, its dimensions (0: the model's own), size caps; add_document on or off. */
  docs: { embedModel: string; embedDimensions: number; maxDocumentBytes: number; maxBytesPerOwner: number; addEnabled: boolean };
  security: {
    authTokens: string[];
    allowUnauthenticated: boolean;
    metricsToken: string | undefined;
    allowedHosts: string[];
    allowedOrigins: string[];
    maxBodyBytes: number;
    rateLimitPerMinute: number;
    maxPromptChars: number;
    maxSessions: number;
    maxSessionsPerToken: number;
    maxSessionsPerAddress: number;
    sessionIdleTimeoutMs: number;
    authFailuresPerMinute: number;
    /** A header the platform's proxy sets to the client's address (e.g. fly-client-ip); unset trusts only the socket. */
    clientIpHeader: string | undefined;
    /** Host headers naming loopback are accepted only when the server itself listens on loopback. */
    loopbackNamesAllowed: boolean;
    maxConnections: number;
    readyCacheMs: number;
  };
};

const LOOPBACK_HOSTS = new Set(["localhost", "::1", "[::1]"]);

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK_HOSTS.has(host.toLowerCase()) || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * Parses the environment once, at start. `--stdio` in argv overrides MCP_TRANSPORT.
 * Empty strings count as unset, so `PORT=` in a .env file means "use the default".
 */
export function loadConfig(env: NodeJS.ProcessEnv, argv: readonly string[] = []): Config {
  const e = parseEnv(env);
  if (e.LOCAL_ONLY && /^openai\//.test(e.LLM_MODEL)) {
    throw new ConfigError([`LLM_MODEL="${e.LLM_MODEL}" is not valid with LOCAL_ONLY=true: expected a local Ollama model, e.g. qwen3:4b`]);
  }
  const transport = argv.includes("--stdio") ? "stdio" : e.MCP_TRANSPORT;
  if (transport === "http" && !isLoopbackHost(e.HOST) && e.MCP_AUTH_TOKEN === "" && !e.MCP_ALLOW_UNAUTHENTICATED) {
    throw new ConfigError([
      `HOST="${e.HOST}" listens beyond this machine, so MCP_AUTH_TOKEN is required: set it (e.g. to \`openssl rand -hex 32\`), bind HOST=127.0.0.1, or set MCP_ALLOW_UNAUTHENTICATED=true to run open on purpose`,
    ]);
  }
  const problems = connectorProblems(e, transport);
  if (problems.length > 0) throw new ConfigError(problems);
  return toConfig(e, transport);
}

/** Distinct characters a connector password needs besides its length, so "aaaa…" or "12121212…" is refused. */
const MIN_PASSWORD_LENGTH = 16;
const MIN_DISTINCT_CHARACTERS = 8;

/** The connector's settings, checked only when CONNECTOR_OWNER_PASSWORD turns it on. */
function connectorProblems(e: Env, transport: Config["transport"]): string[] {
  const password = e.CONNECTOR_OWNER_PASSWORD;
  if (password === undefined || transport !== "http") return [];
  const problems: string[] = [];
  if (!e.PUBLIC_URL) {
    problems.push(
      "CONNECTOR_OWNER_PASSWORD turns on the connector door (/connector/mcp), which needs PUBLIC_URL: set it to the address clients reach this server at, e.g. PUBLIC_URL=https://mcp-lab.fly.dev",
    );
  } else {
    const url = new URL(e.PUBLIC_URL);
    if (url.protocol !== "https:" && !isLoopbackHost(url.hostname))
      problems.push(
        `PUBLIC_URL="${e.PUBLIC_URL}" must be an https:// address for the connector door (OAuth needs TLS); only a loopback address may use http://`,
      );
  }
  if (password.length < MIN_PASSWORD_LENGTH || new Set(password).size < MIN_DISTINCT_CHARACTERS) {
    problems.push(
      `CONNECTOR_OWNER_PASSWORD=(hidden) is too weak: use at least ${MIN_PASSWORD_LENGTH} characters with at least ${MIN_DISTINCT_CHARACTERS} different ones, e.g. from \`openssl rand -base64 24\``,
    );
  } else if (list(e.MCP_AUTH_TOKEN).includes(password) || e.METRICS_TOKEN === password) {
    problems.push(
      "CONNECTOR_OWNER_PASSWORD=(hidden) must differ from MCP_AUTH_TOKEN and METRICS_TOKEN: give the connector its own secret, e.g. from `openssl rand -base64 24`",
    );
  }
  return problems;
}

function parseEnv(env: NodeJS.ProcessEnv): Env {
  const present = Object.fromEntries(
    Object.keys(envSchema.shape)
      .map((key) => [key, env[key]] as const)
      .filter(([, value]) => value !== undefined && value.trim() !== ""),
  );
  const parsed = envSchema.safeParse(present);
  if (parsed.success) return parsed.data;
  throw new ConfigError(
    parsed.error.issues.map((issue) => {
      const name = String(issue.path[0]);
      const shown = SECRET_VARIABLES.has(name) ? "(hidden)" : JSON.stringify(present[name] ?? "");
      return `${name}=${shown} is not valid: expected ${issue.message}`;
    }),
  );
}

function aliasRule(rule: string): { pattern: string; model: string } {
  const at = rule.indexOf("=");
  return { pattern: rule.slice(0, at), model: rule.slice(at + 1) };
}

function toConfig(e: Env, transport: Config["transport"]): Config {
  const local = transport === "stdio" || isLoopbackHost(e.HOST);
  return {
    port: e.PORT,
    host: e.HOST,
    transport,
    stateless: e.MCP_STATELESS,
    ollama: { baseUrl: e.OLLAMA_BASE_URL },
    openai: { apiKey: e.OPENAI_API_KEY, baseUrl: e.OPENAI_BASE_URL },
    defaultModel: e.LLM_MODEL,
    logLevel: e.LOG_LEVEL,
    modelsCacheTtlMs: e.MODELS_CACHE_TTL_MS,
    ...toLlmLimits(e),
    pull: { enabled: e.PULL_ENABLED ?? local, allowed: list(e.PULL_ALLOWED) },
    fallbackModels: list(e.FALLBACK_MODELS),
    localOnly: e.LOCAL_ONLY,
    warmModels: list(e.WARM_MODELS),
    api: { aliases: list(e.MODEL_ALIASES).map(aliasRule), usageRetentionDays: e.USAGE_RETENTION_DAYS },
    maxOutputChars: e.MAX_OUTPUT_CHARS,
    progressIntervalMs: e.PROGRESS_INTERVAL_MS,
    ...toStateParts(e),
    connector:
      e.CONNECTOR_OWNER_PASSWORD && e.PUBLIC_URL && transport === "http" ? { publicUrl: e.PUBLIC_URL, ownerPassword: e.CONNECTOR_OWNER_PASSWORD } : undefined,
    docs: {
      embedModel: e.EMBED_MODEL,
      embedDimensions: e.EMBED_DIMENSIONS,
      maxDocumentBytes: e.DOCS_MAX_DOCUMENT_BYTES,
      maxBytesPerOwner: e.DOCS_MAX_BYTES_PER_TOKEN,
      addEnabled: e.ADD_DOCUMENT_ENABLED ?? local,
    },
    security: toSecurity(e),
  };
}

/** Deadlines, retries, concurrency and clamps of the model calls. */
function toLlmLimits(e: Env): Pick<Config, "timeouts" | "retries" | "concurrency" | "caps"> {
  return {
    timeouts: {
      connectMs: e.LLM_CONNECT_TIMEOUT_MS,
      firstTokenMs: e.LLM_FIRST_TOKEN_TIMEOUT_MS,
      idleMs: e.LLM_IDLE_TIMEOUT_MS,
      totalMs: e.LLM_TOTAL_TIMEOUT_MS,
      pullMs: e.PULL_TIMEOUT_MS,
      readyMs: e.READY_TIMEOUT_MS,
      shutdownMs: e.SHUTDOWN_TIMEOUT_MS,
    },
    retries: { max: e.LLM_MAX_RETRIES, baseDelayMs: e.LLM_RETRY_BASE_DELAY_MS },
    concurrency: {
      ollama: e.OLLAMA_CONCURRENCY,
      openai: e.OPENAI_CONCURRENCY,
      queueMax: e.LLM_QUEUE_MAX,
      queueMaxPerOwner: e.LLM_QUEUE_MAX_PER_TOKEN,
      queueTimeoutMs: e.LLM_QUEUE_TIMEOUT_MS,
    },
    caps: { maxOutputTokens: e.LLM_MAX_OUTPUT_TOKENS, maxNumCtx: e.OLLAMA_MAX_NUM_CTX, maxKeepAliveMs: e.OLLAMA_MAX_KEEP_ALIVE_MS },
  };
}

/** The store and what is kept in it: conversations and jobs. */
function toStateParts(e: Env): Pick<Config, "state" | "conversations" | "jobs"> {
  return {
    state: { dataDir: resolve(e.DATA_DIR), databaseUrl: e.DATABASE_URL },
    conversations: {
      ttlMs: e.CONVERSATION_TTL_MS,
      maxTurns: e.CONVERSATION_MAX_TURNS,
      maxBytes: e.CONVERSATION_MAX_BYTES,
      maxBytesPerOwner: Math.min(e.CONVERSATION_MAX_BYTES_PER_TOKEN, e.CONVERSATION_MAX_BYTES),
    },
    jobs: {
      asyncAfterMs: e.ASYNC_AFTER_MS,
      ttlMs: e.JOB_TTL_MS,
      heartbeatMs: e.JOB_HEARTBEAT_MS,
      maxRunningPerOwner: e.JOB_MAX_RUNNING_PER_TOKEN,
      maxPerOwner: e.JOB_MAX_PER_TOKEN,
      maxTotal: e.JOB_MAX_TOTAL,
    },
  };
}

function toSecurity(e: Env): Config["security"] {
  return {
    authTokens: list(e.MCP_AUTH_TOKEN),
    allowUnauthenticated: e.MCP_ALLOW_UNAUTHENTICATED,
    metricsToken: e.METRICS_TOKEN || undefined,
    // The public address is one of the server's own names.
    allowedHosts: [...list(e.ALLOWED_HOSTS), ...(e.PUBLIC_URL ? [new URL(e.PUBLIC_URL).hostname] : [])].map((host) => host.toLowerCase()),
    allowedOrigins: list(e.ALLOWED_ORIGINS).map((origin) => origin.toLowerCase().replace(/\/+$/, "")),
    maxBodyBytes: e.MAX_BODY_BYTES,
    rateLimitPerMinute: e.RATE_LIMIT_PER_MINUTE,
    maxPromptChars: e.MAX_PROMPT_CHARS,
    maxSessions: e.MAX_SESSIONS,
    maxSessionsPerToken: e.MAX_SESSIONS_PER_TOKEN,
    maxSessionsPerAddress: e.MAX_SESSIONS_PER_ADDRESS,
    sessionIdleTimeoutMs: e.SESSION_IDLE_TIMEOUT_MS,
    authFailuresPerMinute: e.AUTH_FAILURES_PER_MINUTE,
    clientIpHeader: e.CLIENT_IP_HEADER || undefined,
    loopbackNamesAllowed: isLoopbackHost(e.HOST),
    maxConnections: e.MAX_CONNECTIONS,
    readyCacheMs: e.READY_CACHE_MS,
  };
}
