import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

const PROXY = join(dirname(createRequire(import.meta.url).resolve("mcp-remote/package.json")), "dist", "proxy.js");

/**
 * mcp-remote (the stdio bridge Claude Desktop users run) as a child process, with its own empty
 * config folder, a browser opener that opens nothing (BROWSER=true: the test plays the browser),
 * and JSON-RPC on its stdin and stdout.
 */
export class McpRemote {
  readonly child: ChildProcess;
  private out = "";
  private err = "";
  private readonly home = mkdtempSync(join(tmpdir(), "mcp-remote-"));
  readonly exited: Promise<number | null>;

  constructor(args: string[]) {
    this.child = spawn(process.execPath, [PROXY, ...args], {
      cwd: this.home,
      env: { PATH: process.env.PATH, HOME: this.home, MCP_REMOTE_CONFIG_DIR: join(this.home, ".mcp-auth"), BROWSER: "true" },
      stdio: ["pipe", "pipe", "pipe"],
    });
    this.child.stdout!.on("data", (chunk: Buffer) => (this.out += chunk.toString("utf8")));
    this.child.stderr!.on("data", (chunk: Buffer) => (this.err += chunk.toString("utf8")));
    this.exited = new Promise((resolve) => this.child.on("exit", (code) => resolve(code)));
  }

  get stderr(): string {
    return this.err;
  }

  send(message: unknown): void {
    this.child.stdin!.write(`${JSON.stringify(message)}\n`);
  }

  /** The JSON-RPC answer with this id, once mcp-remote has written it. */
  async answer(id: number): Promise<Record<string, unknown>> {
    for (;;) {
      const line = this.out.split("\n").find((candidate) => candidate.includes(`"id":${id}`));
      if (line) return JSON.parse(line) as Record<string, unknown>;
      if (this.child.exitCode !== null) throw new Error(`mcp-remote exited (${this.child.exitCode}) before answering ${id}:\n${this.err.slice(-3000)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** The first match of `pattern` in what mcp-remote logs, once it has logged it. */
  async logged(pattern: RegExp): Promise<RegExpExecArray> {
    for (;;) {
      const match = pattern.exec(this.err);
      if (match) return match;
      if (this.child.exitCode !== null) throw new Error(`mcp-remote exited (${this.child.exitCode}) before logging ${pattern}:\n${this.err.slice(-3000)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null) {
      this.child.kill();
      await this.exited;
    }
    rmSync(this.home, { recursive: true, force: true });
  }
}

export const INITIALIZE_MESSAGE = {
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "mcp-remote-test", version: "1" } },
};
