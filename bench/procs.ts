import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { fileURLToPath } from "node:url";
import { freePort } from "../dev/ports.js";
import { nowMs, sleep } from "./stats.js";

export const ROOT = fileURLToPath(new URL("..", import.meta.url));
const TSX = ["--import", import.meta.resolve("tsx")];

/** Every child this process started, killed on exit whatever happens, so a failed run leaves nothing behind. */
const children = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
});

export function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once("exit", () => children.delete(child));
  return child;
}

/** The node flags the image starts the server with: what the Dockerfile's CMD puts between `node` and `dist/index.js`. */
function readImageNodeArgs(): string[] {
  const dockerfile = existsSync(`${ROOT}Dockerfile`) ? readFileSync(`${ROOT}Dockerfile`, "utf8") : "";
  const cmd = [...dockerfile.matchAll(/^CMD\s+(\[.*\])\s*$/gm)].at(-1)?.[1];
  const argv = cmd ? (JSON.parse(cmd) as string[]) : [];
  return argv[0] === "node" ? argv.slice(1, argv.indexOf("dist/index.js")).filter((arg) => arg.startsWith("--")) : [];
}

export const IMAGE_NODE_ARGS: readonly string[] = readImageNodeArgs();

/**
 * The server as it ships: the built dist/index.js with the image's node flags (or without them,
 * for comparison), or the sources through tsx when there is no build.
 */
export function serverEntry(withImageFlags = true): { args: string[]; kind: string } {
  const built = `${ROOT}dist/index.js`;
  if (!existsSync(built)) return { args: [...TSX, `${ROOT}src/index.ts`], kind: "src/index.ts via tsx" };
  const flags = withImageFlags ? IMAGE_NODE_ARGS : [];
  return {
    args: [...flags, built],
    kind: `node ${[...flags, "dist/index.js"].join(" ")} (pnpm build${flags.length ? "; flags from the Dockerfile's CMD" : ""})`,
  };
}

/** Resident set size of a process, from /proc/<pid>/status (VmRSS), in bytes. */
export function rssOf(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return match ? Number(match[1]) * 1024 : Number.NaN;
}

/** CPU time a process has used so far, from /proc/<pid>/schedstat, in ms. */
export function cpuMsOf(pid: number): number {
  return Number(readFileSync(`/proc/${pid}/schedstat`, "utf8").split(" ")[0]) / 1e6;
}

/**
 * Environment for a child server: ours only, run from an empty folder so no .env is read. Every
 * caller is the bench on 127.0.0.1 without a token, so the per-caller limits (requests, sessions,
 * queued calls) are lifted: they would refuse the load the bench exists to measure.
 */
export function gatewayEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    HOST: "127.0.0.1",
    LOG_LEVEL: "warn",
    RATE_LIMIT_PER_MINUTE: "0",
    MAX_SESSIONS: "1000000",
    MAX_SESSIONS_PER_ADDRESS: "1000000",
    MAX_SESSIONS_PER_TOKEN: "1000000",
    OLLAMA_CONCURRENCY: "64",
    LLM_QUEUE_MAX: "10000",
    LLM_QUEUE_MAX_PER_TOKEN: "10000",
    ...extra,
  };
}

export type Gateway = { url: string; pid: number; child: ChildProcess; stop(): Promise<void> };

export async function waitHealthy(url: string, timeoutMs = 15_000): Promise<void> {
  const deadline = nowMs() + timeoutMs;
  while (nowMs() < deadline) {
    const ok = await fetch(`${url}/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await sleep(5);
  }
  throw new Error(`no 200 from ${url}/health within ${timeoutMs} ms`);
}

/** Starts the gateway in its own process on a free loopback port, LOG_LEVEL=warn, and waits for /health. */
export async function startGateway(extra: Record<string, string>, nodeArgs: string[] = [], withImageFlags = true): Promise<Gateway> {
  const port = await freePort();
  const child = track(
    spawn(process.execPath, [...nodeArgs, ...serverEntry(withImageFlags).args], {
      cwd: tmpdir(),
      env: gatewayEnv({ PORT: String(port), ...extra }),
      stdio: ["ignore", "ignore", "pipe"],
    }),
  );
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString("utf8")).slice(-4000);
  });
  const url = `http://127.0.0.1:${port}`;
  await Promise.race([waitHealthy(url), new Promise((_, reject) => child.once("exit", (code) => reject(new Error(`gateway exited (${code}): ${stderr}`))))]);
  return { url, pid: child.pid!, child, stop: () => stopChild(child) };
}

export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(timer);
}

export type Helper = { url: string; pid: number; stop(): Promise<void> };

/** Starts one of the bench's helper servers (a .ts file in bench/) in its own process; it prints {"port":N}. */
async function startHelper(file: string, env: Record<string, string>): Promise<Helper> {
  const child = track(
    spawn(process.execPath, [...TSX, `${ROOT}bench/${file}`], { cwd: ROOT, env: { PATH: process.env.PATH, ...env }, stdio: ["ignore", "pipe", "inherit"] }),
  );
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.once("data", (chunk: Buffer) => resolve((JSON.parse(chunk.toString("utf8")) as { port: number }).port));
    child.once("exit", (code) => reject(new Error(`${file} exited (${code})`)));
  });
  return { url: `http://127.0.0.1:${port}`, pid: child.pid!, stop: () => stopChild(child) };
}

/** The provider stand-in (bench/standIn.ts): Ollama's native API with a fixed latency, streamed tokens. */
export function startStandIn(options: { firstTokenMs: number; tokens: number; tokenMs: number }): Promise<Helper> {
  return startHelper("standIn.ts", {
    STANDIN_FIRST_TOKEN_MS: String(options.firstTokenMs),
    STANDIN_TOKENS: String(options.tokens),
    STANDIN_TOKEN_MS: String(options.tokenMs),
  });
}

/** A bare HTTP pass-through to the provider (bench/passThrough.ts): the floor for any process in the middle. */
export function startPassThrough(providerUrl: string): Promise<Helper> {
  return startHelper("passThrough.ts", { PROVIDER_URL: providerUrl });
}
