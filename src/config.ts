import { z } from "zod";

/** Thrown when the environment does not describe a valid configuration. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

const list = (value: string) =>
  value
    .split(",")
    .map((item) => item.trim())
    .filter(Boolean);

const integer = (min: number, max: number, fallback: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, `a whole number from ${min} to ${max}`)
    .transform(Number)
    .pipe(z.number().int().min(min, `a whole number from ${min} to ${max}`).max(max, `a whole number from ${min} to ${max}`))
    .default(fallback);

const httpUrl = (fallback: string) =>
  z
    .string()
    .trim()
    .refine((value) => {
      try {
        return ["http:", "https:"].includes(new URL(value).protocol);
      } catch {
        return false;
      }
    }, "an http:// or https:// URL")
    .transform((value) => value.replace(/\/+$/, ""))
    .default(fallback);

const optionalText = z
  .string()
  .trim()
  .transform((value) => (value === "" ? undefined : value))
  .optional();

const flag = z
  .string()
  .trim()
  .toLowerCase()
  .refine((value) => ["true", "false", "1", "0", "yes", "no"].includes(value), "true or false")
  .transform((value) => ["true", "1", "yes"].includes(value));

const boolean = (fallback: boolean) => flag.default(fallback);

const SECRET_VARIABLES = new Set(["OPENAI_API_KEY", "MCP_AUTH_TOKEN", "METRICS_TOKEN"]);

const envSchema = z.object({
  PORT: integer(0, 65535, 8080),
  HOST: z.string().trim().min(1, "a host name or address, e.g. 127.0.0.1 or ::").default("127.0.0.1"),
  MCP_TRANSPORT: z.enum(["http", "stdio"], { error: 'one of "http" or "stdio"' }).default("http"),
  MCP_STATELESS: boolean(false),
  OLLAMA_BASE_URL: httpUrl("http://localhost:11434"),
  OPENAI_API_KEY: optionalText,
  OPENAI_BASE_URL: httpUrl("https://api.openai.com/v1"),
  LLM_MODEL: z.string().trim().min(1, "a model name, e.g. qwen3:4b or openai/gpt-4o-mini").default("qwen3:4b"),
  LOG_LEVEL: z
    .enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"], {
      error: "one of fatal, error, warn, info, debug, trace, silent",
    })
    .default("info"),
  MODELS_CACHE_TTL_MS: integer(0, 86_400_000, 30_000),
  LLM_CONNECT_TIMEOUT_MS: integer(100, 600_000, 10_000),
  LLM_FIRST_TOKEN_TIMEOUT_MS: integer(100, 3_600_000, 300_000),
  LLM_IDLE_TIMEOUT_MS: integer(100, 3_600_000, 120_000),
  LLM_TOTAL_TIMEOUT_MS: integer(100, 3_600_000, 600_000),
  PULL_TIMEOUT_MS: integer(1_000, 86_400_000, 3_600_000),
  LLM_MAX_RETRIES: integer(0, 10, 2),
  LLM_RETRY_BASE_DELAY_MS: integer(0, 60_000, 500),
  OLLAMA_CONCURRENCY: integer(1, 64, 4),
  OPENAI_CONCURRENCY: integer(1, 256, 16),
  LLM_QUEUE_MAX: integer(0, 10_000, 64),
  LLM_QUEUE_TIMEOUT_MS: integer(0, 3_600_000, 120_000),
  LLM_QUEUE_MAX_PER_TOKEN: integer(0, 10_000, 16),
  LLM_MAX_OUTPUT_TOKENS: integer(1, 1_048_576, 16_384),
  OLLAMA_MAX_NUM_CTX: integer(256, 1_048_576, 32_768),
  OLLAMA_MAX_KEEP_ALIVE_MS: integer(0, 604_800_000, 1_800_000),
  PULL_ENABLED: flag.optional(),
  PULL_ALLOWED: z.string().trim().default(""),
  FALLBACK_MODELS: z.string().trim().default(""),
  LOCAL_ONLY: boolean(false),
  WARM_MODELS: z.string().trim().default(""),
  MAX_OUTPUT_CHARS: integer(200, 1_000_000, 40_000),
  PROGRESS_INTERVAL_MS: integer(100, 60_000, 10_000),
  CONVERSATION_TTL_MS: integer(1_000, 86_400_000, 1_800_000),
  CONVERSATION_MAX_TURNS: integer(1, 1_000, 20),
  CONVERSATION_MAX_BYTES: integer(65_536, 17_179_869_184, 67_108_864),
  CONVERSATION_MAX_BYTES_PER_TOKEN: integer(65_536, 17_179_869_184, 8_388_608),
  READY_TIMEOUT_MS: integer(100, 60_000, 2_000),
  MCP_AUTH_TOKEN: z
    .string()
    .trim()
    .refine((value) => list(value).every((token) => token.length >= 16 && !/\s/.test(token)), "comma-separated tokens of at least 16 characters each, e.g. from `openssl rand -hex 32`")
    .default(""),
  MCP_ALLOW_UNAUTHENTICATED: boolean(false),
  METRICS_TOKEN: z.string().trim().refine((value) => value === "" || value.length >= 16, "a token of at least 16 characters").default(""),
  ALLOWED_HOSTS: z.string().trim().default(""),
  ALLOWED_ORIGINS: z.string().trim().default(""),
  MAX_BODY_BYTES: integer(1_024, 100_000_000, 1_048_576),
  RATE_LIMIT_PER_MINUTE: integer(0, 1_000_000, 600),
  MAX_PROMPT_CHARS: integer(1, 10_000_000, 200_000),
  MAX_SESSIONS: integer(1, 1_000_000, 1_000),
  SESSION_IDLE_TIMEOUT_MS: integer(1_000, 86_400_000, 600_000),
  MAX_SESSIONS_PER_TOKEN: integer(1, 1_000_000, 100),
  MAX_SESSIONS_PER_ADDRESS: integer(1, 1_000_000, 100),
  AUTH_FAILURES_PER_MINUTE: integer(1, 100_000, 10),
  CLIENT_IP_HEADER: z
    .string()
    .trim()
    .toLowerCase()
    .regex(/^([a-z0-9-]+)?$/, "a header name such as fly-client-ip, or empty")
    .default(""),
  MAX_CONNECTIONS: integer(16, 1_000_000, 1_024),
  READY_CACHE_MS: integer(0, 600_000, 5_000),
  SHUTDOWN_TIMEOUT_MS: integer(0, 60_000, 7_000),
});

export type Config = {
  port: number;
  host: string;
  transport: "http" | "stdio";
  stateless: boolean;
  ollama: { baseUrl: string };
  openai: { apiKey: string | undefined; baseUrl: string };
  defaultModel: string;
  logLevel: z.infer<typeof envSchema>["LOG_LEVEL"];
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
  maxOutputChars: number;
  progressIntervalMs: number;
  conversations: { ttlMs: number; maxTurns: number; maxBytes: number; maxBytesPerOwner: number };
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
  const present = Object.fromEntries(
    Object.keys(envSchema.shape)
      .map((key) => [key, env[key]] as const)
      .filter(([, value]) => value !== undefined && value.trim() !== ""),
  );
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0]);
      const shown = SECRET_VARIABLES.has(name) ? "(hidden)" : JSON.stringify(present[name] ?? "");
      return `${name}=${shown} is not valid: expected ${issue.message}`;
    });
    throw new ConfigError(problems);
  }
  const e = parsed.data;
  if (e.LOCAL_ONLY && /^openai\//.test(e.LLM_MODEL)) {
    throw new ConfigError([`LLM_MODEL="${e.LLM_MODEL}" is not valid with LOCAL_ONLY=true: expected a local Ollama model, e.g. qwen3:4b`]);
  }
  const transport = argv.includes("--stdio") ? "stdio" : e.MCP_TRANSPORT;
  if (transport === "http" && !isLoopbackHost(e.HOST) && e.MCP_AUTH_TOKEN === "" && !e.MCP_ALLOW_UNAUTHENTICATED) {
    throw new ConfigError([
      `HOST="${e.HOST}" listens beyond this machine, so MCP_AUTH_TOKEN is required: set it (e.g. to \`openssl rand -hex 32\`), bind HOST=127.0.0.1, or set MCP_ALLOW_UNAUTHENTICATED=true to run open on purpose`,
    ]);
  }
  const pullEnabled = e.PULL_ENABLED ?? (transport === "stdio" || isLoopbackHost(e.HOST));
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
    concurrency: { ollama: e.OLLAMA_CONCURRENCY, openai: e.OPENAI_CONCURRENCY, queueMax: e.LLM_QUEUE_MAX, queueMaxPerOwner: e.LLM_QUEUE_MAX_PER_TOKEN, queueTimeoutMs: e.LLM_QUEUE_TIMEOUT_MS },
    caps: { maxOutputTokens: e.LLM_MAX_OUTPUT_TOKENS, maxNumCtx: e.OLLAMA_MAX_NUM_CTX, maxKeepAliveMs: e.OLLAMA_MAX_KEEP_ALIVE_MS },
    pull: { enabled: pullEnabled, allowed: list(e.PULL_ALLOWED) },
    fallbackModels: list(e.FALLBACK_MODELS),
    localOnly: e.LOCAL_ONLY,
    warmModels: list(e.WARM_MODELS),
    maxOutputChars: e.MAX_OUTPUT_CHARS,
    progressIntervalMs: e.PROGRESS_INTERVAL_MS,
    conversations: { ttlMs: e.CONVERSATION_TTL_MS, maxTurns: e.CONVERSATION_MAX_TURNS, maxBytes: e.CONVERSATION_MAX_BYTES, maxBytesPerOwner: Math.min(e.CONVERSATION_MAX_BYTES_PER_TOKEN, e.CONVERSATION_MAX_BYTES) },
    security: {
      authTokens: list(e.MCP_AUTH_TOKEN),
      allowUnauthenticated: e.MCP_ALLOW_UNAUTHENTICATED,
      metricsToken: e.METRICS_TOKEN || undefined,
      allowedHosts: list(e.ALLOWED_HOSTS).map((host) => host.toLowerCase()),
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
    },
  };
}
