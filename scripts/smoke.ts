/**
 * Smoke test for a running mcp-lab deployment, end to end, with the official MCP client.
 *
 *   pnpm smoke <base-url> [--token T] [--ask [MODEL]] [--timeout MS]
 *
 * Prints one line per check, `PASS <name> <detail>` or `FAIL <name> <detail>`, then
 * `N passed, M failed`. Exit code 0 when every check passed, 1 when one failed, 2 on bad usage.
 * scripts/smoke.sh makes the same checks with curl and sh alone, and prints the same lines.
 */
// First: refuses an old Node.js with a message that says how to get the right one.
import "../src/nodeCheck.js";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";

const USAGE = "usage: pnpm smoke <base-url> [--token T] [--ask [MODEL]] [--timeout MS]";
const DEFAULT_TIMEOUT_MS = 15_000;
const DEFAULT_ASK_TIMEOUT_MS = 120_000;
/** Every tool the server offers; scripts/smoke.sh checks the same list. */
/** Every server offers these; pull_model only where PULL_ENABLED is on (by default on loopback). */
const EXPECTED_TOOLS = ["add", "ask_llm", "compare_models", "list_models", "model_info"];
const ASK_PROMPT = "Reply with the single word: pong";

type Options = { baseUrl: string; token?: string; ask: boolean; model?: string; timeoutMs?: number };
type Kind = "mcp" | "sse";
type Session = { client: Client; transport: Transport; protocolVersion?: string };
type ToolResult = { isError?: boolean; content?: Array<{ type: string; text?: string }>; structuredContent?: Record<string, unknown> };

class UsageError extends Error {}

const counts = { passed: 0, failed: 0 };

function report(ok: boolean, name: string, detail: string): void {
  counts[ok ? "passed" : "failed"] += 1;
  console.log(`${ok ? "PASS" : "FAIL"} ${name} ${oneLine(detail)}`);
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

function parseArgs(argv: string[]): Options {
  const options: Partial<Options> & { ask: boolean } = { ask: false };
  const value = (i: number, flag: string): string => {
    const next = argv[i];
    if (next === undefined || next.startsWith("--")) throw new UsageError(`${flag} needs a value`);
    return next;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--token") options.token = value(++i, "--token");
    else if (arg === "--timeout") options.timeoutMs = positiveInt(value(++i, "--timeout"));
    else if (arg === "--ask") {
      options.ask = true;
      const next = argv[i + 1];
      if (next !== undefined && !next.startsWith("--") && !/^https?:\/\//.test(next)) options.model = argv[++i];
    } else if (arg.startsWith("--ask=")) Object.assign(options, { ask: true, model: arg.slice(6) || undefined });
    else if (arg.startsWith("-")) throw new UsageError(`unknown option ${arg}`);
    else if (options.baseUrl === undefined) options.baseUrl = baseUrlOf(arg);
    else throw new UsageError(`unexpected argument ${arg}`);
  }
  if (options.baseUrl === undefined) throw new UsageError("missing <base-url>");
  return options as Options;
}

function positiveInt(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`--timeout must be a whole number of milliseconds, got ${text}`);
  return n;
}

function baseUrlOf(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`<base-url> is not a URL: ${text}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new UsageError(`<base-url> must be http:// or https://, got ${text}`);
  return url.href.replace(/\/+$/, "");
}

/** One line that says what went wrong, with the network cause (ECONNREFUSED, ...) when there is one. */
function messageOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause as (Error & { code?: string; errors?: Error[] }) | undefined;
  const causeText = cause instanceof Error ? cause.message || cause.errors?.[0]?.message || cause.code || "" : "";
  const text = causeText && !error.message.includes(causeText) ? `${error.message}: ${causeText}` : error.message;
  return oneLine(text) || error.name;
}

/** Runs `work` with a deadline; on expiry its signal is aborted and the result is a "timed out" error. */
async function withTimeout<T>(ms: number, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new Error(`timed out after ${ms} ms`);
      controller.abort(error);
      reject(error);
    }, ms);
  });
  const running = work(controller.signal);
  running.catch(() => undefined);
  try {
    return await Promise.race([running, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** Set once the server gave no HTTP answer at all: the checks after that fail at once instead of each waiting. */
let unreachable: string | undefined;

/** A check that got an HTTP answer, just not the right one. */
class HttpFailure extends Error {}

/** Runs one check; `work` returns the PASS detail or throws with the FAIL detail. Resolves to the error, if any. */
async function check(name: string, ms: number, work: (signal: AbortSignal) => Promise<string>): Promise<unknown> {
  if (unreachable) {
    report(false, name, `skipped: ${unreachable}`);
    return new Error(unreachable);
  }
  try {
    report(true, name, await withTimeout(ms, work));
    return undefined;
  } catch (error) {
    report(false, name, messageOf(error));
    return error ?? new Error("failed");
  }
}

function authHeaders(options: Options): Record<string, string> {
  return options.token ? { authorization: `Bearer ${options.token}` } : {};
}

async function getJson(options: Options, path: string, signal: AbortSignal): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${options.baseUrl}${path}`, { headers: authHeaders(options), signal });
  const text = await response.text();
  try {
    return { status: response.status, body: JSON.parse(text) as Record<string, unknown> };
  } catch {
    throw new HttpFailure(`HTTP ${response.status}, not JSON: ${text.slice(0, 200)}`);
  }
}

async function probeChecks(options: Options, ms: number): Promise<void> {
  const failure = await check("health", ms, async (signal) => {
    const { status, body } = await getJson(options, "/health", signal);
    if (status !== 200 || body.status !== "ok") throw new HttpFailure(`HTTP ${status} ${JSON.stringify(body)}`);
    return `HTTP 200 status=ok version=${String(body.version)}`;
  });
  if (failure && !(failure instanceof HttpFailure)) unreachable = `no HTTP answer from ${options.baseUrl} (see health)`;
  await check("ready", ms, async (signal) => {
    const { status, body } = await getJson(options, "/ready", signal);
    const about = ["status", "model", "provider"].filter((key) => body[key] !== undefined).map((key) => `${key}=${String(body[key])}`);
    if (status !== 200) throw new HttpFailure(`HTTP ${status} ${about.join(" ")} reason: ${String(body.reason ?? JSON.stringify(body))}`);
    return `HTTP 200 ${about.join(" ")}`;
  });
}

function makeTransport(kind: Kind, options: Options): Transport {
  const headers = authHeaders(options);
  if (kind === "mcp") return new StreamableHTTPClientTransport(new URL(`${options.baseUrl}/mcp`), { requestInit: { headers } });
  const streamFetch: typeof fetch = (url, init) => {
    const merged = new Headers(init?.headers);
    for (const [key, value] of Object.entries(headers)) merged.set(key, value);
    return fetch(url, { ...init, headers: merged });
  };
  return new SSEClientTransport(new URL(`${options.baseUrl}/sse`), { requestInit: { headers }, eventSourceInit: { fetch: streamFetch } });
}

async function connect(kind: Kind, options: Options, signal: AbortSignal, ms: number): Promise<Session> {
  const transport = makeTransport(kind, options);
  const session: Session = { client: new Client({ name: "mcp-lab-smoke", version: "1.0.0" }), transport };
  const setProtocolVersion = transport.setProtocolVersion?.bind(transport);
  transport.setProtocolVersion = (version) => {
    session.protocolVersion = version;
    setProtocolVersion?.(version);
  };
  signal.addEventListener("abort", () => void closeSession(session));
  await session.client.connect(transport, { signal, timeout: ms });
  return session;
}

async function closeSession(session: Session): Promise<void> {
  const { transport } = session;
  if (transport instanceof StreamableHTTPClientTransport && transport.sessionId) {
    await withTimeout(2_000, () => transport.terminateSession()).catch(() => undefined);
  }
  await session.client.close().catch(() => undefined);
}

function textOf(result: ToolResult): string {
  return (result.content ?? []).map((c) => c.text ?? "").join("");
}

async function transportChecks(kind: Kind, options: Options, ms: number): Promise<Session | undefined> {
  let session: Session | undefined;
  const failure = await check(`${kind}.initialize`, ms, async (signal) => {
    session = await connect(kind, options, signal, ms);
    const server = session.client.getServerVersion();
    return `server=${server?.name} ${server?.version} protocol=${session.protocolVersion ?? "?"}`;
  });
  const live = failure ? undefined : session;
  const skipped = async () => {
    throw new Error(`skipped: ${kind}.initialize failed`);
  };
  await check(`${kind}.tools/list`, ms, live ? (signal) => listTools(live, signal, ms) : skipped);
  await check(`${kind}.add`, ms, live ? (signal) => callAdd(live, signal, ms) : skipped);
  return live;
}

async function listTools(session: Session, signal: AbortSignal, ms: number): Promise<string> {
  const { tools } = await session.client.listTools({}, { signal, timeout: ms });
  const names = tools.map((t) => t.name);
  const missing = EXPECTED_TOOLS.filter((name) => !names.includes(name));
  if (missing.length) throw new Error(`missing ${missing.join(", ")}; got ${names.join(", ") || "no tools"}`);
  return `${names.length} tools: ${names.join(", ")}`;
}

async function callAdd(session: Session, signal: AbortSignal, ms: number): Promise<string> {
  const result = (await session.client.callTool({ name: "add", arguments: { a: 2, b: 3 } }, undefined, { signal, timeout: ms })) as ToolResult;
  const text = textOf(result);
  if (result.isError || text !== "5") throw new Error(`add(2, 3) gave ${JSON.stringify(text)}${result.isError ? " (isError)" : ""}`);
  return "add(2, 3) = 5";
}

async function askCheck(session: Session | undefined, options: Options, ms: number): Promise<void> {
  await check("mcp.ask_llm", ms, async (signal) => {
    if (!session) throw new Error("skipped: mcp.initialize failed");
    const args = { prompt: ASK_PROMPT, ...(options.model && { model: options.model }) };
    const started = performance.now();
    const result = (await session.client.callTool({ name: "ask_llm", arguments: args }, undefined, { signal, timeout: ms })) as ToolResult;
    const elapsed = Math.round(performance.now() - started);
    if (result.isError) throw new Error(textOf(result) || "isError with no text");
    const s = result.structuredContent ?? {};
    const answer = String(s.answer ?? textOf(result)).slice(0, 60);
    return `model=${String(s.model ?? options.model ?? "default")} provider=${String(s.provider ?? "?")} latencyMs=${String(s.latencyMs ?? elapsed)} answer=${JSON.stringify(answer)}`;
  });
}

async function run(options: Options): Promise<number> {
  const ms = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  await probeChecks(options, ms);
  const mcp = await transportChecks("mcp", options, ms);
  const sse = await transportChecks("sse", options, ms);
  if (sse) await closeSession(sse);
  if (options.ask) await askCheck(mcp, options, options.timeoutMs ?? DEFAULT_ASK_TIMEOUT_MS);
  if (mcp) await closeSession(mcp);
  return summary();
}

function summary(): number {
  console.log(`${counts.passed} passed, ${counts.failed} failed`);
  return counts.failed === 0 ? 0 : 1;
}

function main(argv: string[]): void {
  if (argv.includes("--help") || argv.includes("-h")) {
    console.log(USAGE);
    return;
  }
  let options: Options;
  try {
    options = parseArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`smoke: ${error.message}\n${USAGE}`);
    process.exit(2);
  }
  run(options).then(
    (code) => exitSoon(code),
    (error: unknown) => {
      report(false, "smoke", messageOf(error));
      exitSoon(summary());
    },
  );
}

/** Lets the event loop drain, but never waits on a connection left hanging by a timed-out check. */
function exitSoon(code: number): void {
  process.exitCode = code;
  setTimeout(() => process.exit(code), 200).unref();
}

main(process.argv.slice(2));
