import { homedir } from "node:os";
import { join } from "node:path";
import { z } from "zod";

/** The environment variables the server reads, each with its check and its default (.env.example lists them all). */

export const list = (value: string) =>
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

export const SECRET_VARIABLES = new Set(["OPENAI_API_KEY", "MCP_AUTH_TOKEN", "METRICS_TOKEN", "DATABASE_URL", "CONNECTOR_OWNER_PASSWORD"]);

export const envSchema = z.object({
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
  MODEL_ALIASES: z
    .string()
    .trim()
    .refine(
      (value) => list(value).every((rule) => /^[^=\s]{1,256}=[^=\s]{1,256}$/.test(rule)),
      "comma-separated pattern=model rules, e.g. claude-*-haiku*=qwen3:4b,claude-*=qwen3-coder:30b",
    )
    .default(""),
  USAGE_RETENTION_DAYS: integer(1, 36_500, 400),
  MAX_OUTPUT_CHARS: integer(200, 1_000_000, 40_000),
  PROGRESS_INTERVAL_MS: integer(100, 60_000, 10_000),
  CONVERSATION_TTL_MS: integer(1_000, 86_400_000, 1_800_000),
  CONVERSATION_MAX_TURNS: integer(1, 1_000, 20),
  CONVERSATION_MAX_BYTES: integer(65_536, 17_179_869_184, 67_108_864),
  CONVERSATION_MAX_BYTES_PER_TOKEN: integer(65_536, 17_179_869_184, 8_388_608),
  READY_TIMEOUT_MS: integer(100, 60_000, 2_000),
  ASYNC_AFTER_MS: integer(100, 3_600_000, 45_000),
  JOB_TTL_MS: integer(10_000, 604_800_000, 3_600_000),
  JOB_HEARTBEAT_MS: integer(50, 60_000, 5_000),
  JOB_MAX_RUNNING_PER_TOKEN: integer(1, 10_000, 8),
  JOB_MAX_PER_TOKEN: integer(1, 100_000, 100),
  JOB_MAX_TOTAL: integer(1, 1_000_000, 2_000),
  MCP_AUTH_TOKEN: z
    .string()
    .trim()
    .refine(
      (value) => list(value).every((token) => token.length >= 16 && !/\s/.test(token)),
      "comma-separated tokens of at least 16 characters each, e.g. from `openssl rand -hex 32`",
    )
    .default(""),
  MCP_ALLOW_UNAUTHENTICATED: boolean(false),
  METRICS_TOKEN: z
    .string()
    .trim()
    .refine((value) => value === "" || value.length >= 16, "a token of at least 16 characters")
    .default(""),
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
  DATA_DIR: z
    .string()
    .trim()
    .min(1)
    .default(join(homedir(), ".local", "share", "mcp-lab")),
  DATABASE_URL: z
    .string()
    .trim()
    .refine((value) => {
      try {
        const url = new URL(value);
        return ["postgres:", "postgresql:"].includes(url.protocol) && url.hostname !== "";
      } catch {
        return false;
      }
    }, "a postgres:// or postgresql:// URL with a host, e.g. postgres://user:password@db.example.com:5432/mcp_lab")
    .optional(),
  /** The address clients reach this server at (the connector writes absolute URLs with it). */
  PUBLIC_URL: z
    .string()
    .trim()
    .refine((value) => {
      try {
        const url = new URL(value);
        return (
          ["http:", "https:"].includes(url.protocol) && url.pathname.replace(/\/+$/, "") === "" && !url.search && !url.hash && !url.username && !url.password
        );
      } catch {
        return false;
      }
    }, "the server's public address without a path, e.g. https://mcp-lab.fly.dev")
    .transform((value) => new URL(value).origin)
    .optional(),
  /** Turns on the connector door (/connector/mcp, OAuth); the owner types it to approve a client. */
  CONNECTOR_OWNER_PASSWORD: optionalText,
  EMBED_MODEL: z
    .string()
    .trim()
    .min(1, "an Ollama embedding model, e.g. embeddinggemma or nomic-embed-text")
    .regex(/^[A-Za-z0-9][A-Za-z0-9._:/@+-]*$/, "an Ollama model name, e.g. embeddinggemma")
    .default("embeddinggemma"),
  EMBED_DIMENSIONS: integer(0, 2_000, 0),
  DOCS_MAX_DOCUMENT_BYTES: integer(1_024, 104_857_600, 2_097_152),
  DOCS_MAX_BYTES_PER_TOKEN: integer(1_024, 17_179_869_184, 16_777_216),
  ADD_DOCUMENT_ENABLED: flag.optional(),
});

export type Env = z.infer<typeof envSchema>;
