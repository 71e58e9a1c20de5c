import { type ChildProcess, spawn } from "node:child_process";
import { tmpdir } from "node:os";
import { fileURLToPath } from "node:url";
import { freshDataDirSync } from "./state.js";
import { waitFor } from "./wait.js";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const ENTRY = ["--import", import.meta.resolve("tsx"), `${ROOT}src/index.ts`];

/** Environment for a child server: ours only, and run from an empty folder so no .env is read. */
export function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: "info", DATA_DIR: freshDataDirSync(), ...extra };
}

export function spawnServer(args: string[], env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, [...ENTRY, ...args], { cwd: tmpdir(), env: childEnv(env), stdio: ["pipe", "pipe", "pipe"] });
}

export function collect(child: ChildProcess): { stdout: () => string; stderr: () => string; exit: Promise<number | null> } {
  let out = "";
  let err = "";
  child.stdout?.on("data", (chunk: Buffer) => (out += chunk.toString("utf8")));
  child.stderr?.on("data", (chunk: Buffer) => (err += chunk.toString("utf8")));
  const exit = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { stdout: () => out, stderr: () => err, exit };
}

export type ChildServer = { child: ChildProcess; url: string; port: number; output: ReturnType<typeof collect> };

/**
 * How long a child server may take to start: tsx compiles the sources first, which on a busy
 * 2-core machine (the whole suite plus other work) has taken more than 15 s. Only a hang guard.
 */
export const START_GUARD_MS = 60_000;

/** Spawns `src/index.ts` as its own process on a free loopback port and waits for its port in the log. */
export async function startChildServer(env: Record<string, string>): Promise<ChildServer> {
  const child = spawnServer([], { PORT: "0", HOST: "127.0.0.1", ...env });
  const output = collect(child);
  const port = () => /"port":(\d+)/.exec(output.stderr())?.[1];
  const started = await waitFor(() => port() !== undefined || child.exitCode !== null, START_GUARD_MS);
  if (!started || !port()) {
    child.kill("SIGKILL");
    throw new Error(`server did not start: ${output.stderr()}`);
  }
  return { child, url: `http://127.0.0.1:${port()}`, port: Number(port()), output };
}

/** Ends a child we started: SIGTERM, then SIGKILL after `graceMs`. Resolves once it has exited. */
export async function stopChild(child: ChildProcess | undefined, graceMs = 3_000): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
  await exited;
  clearTimeout(timer);
}
