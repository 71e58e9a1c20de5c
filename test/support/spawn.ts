import { spawn, type ChildProcess } from "node:child_process";
import { tmpdir } from "node:os";
import { fileURLToPath } from "node:url";
import { freshDataDirSync } from "./state.js";

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
