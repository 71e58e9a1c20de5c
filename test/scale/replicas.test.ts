import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OllamaStandIn } from "../support/ollamaStandIn.js";
import { callTool } from "../support/server.js";
import { HANG_GUARD_MS } from "../support/wait.js";
import { type ChildServer, connectStreamable, findExecutable, freePort, startChildServer, stopChild, until, waitFor } from "./support.js";

/**
 * Two server processes with MCP_STATELESS=true behind nginx as a round-robin load balancer, over
 * streamable HTTP: one client session's calls are spread over both replicas and every one succeeds.
 *
 * nginx is not installed by this test. Without `nginx` on PATH (or in /usr/sbin) the suite is
 * skipped with a warning; scripts/install-test-deps.sh installs it (CI runs that script).
 */

const NGINX = findExecutable("nginx");
const SKIP_REASON = "nginx is not on PATH or in /usr/sbin: run scripts/install-test-deps.sh (Debian package nginx) and test again";
const TITLE = NGINX ? "two stateless replicas behind nginx" : `two stateless replicas behind nginx — SKIPPED: ${SKIP_REASON}`;
if (!NGINX) console.warn(`test/scale/replicas.test.ts: SKIPPED: ${SKIP_REASON}`);

function nginxConf(dir: string, listenPort: number, upstreams: number[]): string {
  // nginx refuses a `user` directive it cannot honour only with a warning; as root it needs one
  // whose workers can write the temp folders below, so name the current user.
  const user = process.getuid?.() === 0 ? `user ${userInfo().username};` : "";
  return `${user}
daemon off;
master_process on;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log info;
events { worker_connections 512; }
http {
  access_log ${dir}/access.log;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream mcp_lab {
${upstreams.map((port) => `    server 127.0.0.1:${port};`).join("\n")}
  }
  server {
    listen 127.0.0.1:${listenPort};
    location / {
      proxy_pass http://mcp_lab;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      # The server checks Host against loopback names and ALLOWED_HOSTS (DNS-rebinding
      # protection): pass the client's, not nginx's default (the upstream's name).
      proxy_set_header Host $http_host;
      # Tool results and progress come as SSE-framed responses: stream them, don't buffer.
      proxy_buffering off;
      proxy_cache off;
      proxy_read_timeout 60s;
    }
  }
}
`;
}

describe.skipIf(!NGINX)(TITLE, () => {
  let ollama: OllamaStandIn | undefined;
  const replicas: ChildServer[] = [];
  let nginx: ChildProcess | undefined;
  let nginxOutput = "";
  let dir: string | undefined;
  let url = "";

  async function stopAll(): Promise<void> {
    try {
      if (nginx && nginx.exitCode === null && nginx.signalCode === null) {
        const exited = new Promise<void>((resolve) => nginx!.once("exit", () => resolve()));
        nginx.kill("SIGTERM"); // fast shutdown: the master stops its workers, then exits
        const killer = setTimeout(() => {
          // Last resort: the whole process group we started it in (master and workers).
          try {
            process.kill(-nginx!.pid!, "SIGKILL");
          } catch {
            // already gone
          }
        }, 3_000);
        await exited;
        clearTimeout(killer);
      }
    } finally {
      nginx = undefined;
      await Promise.all(replicas.splice(0).map((replica) => stopChild(replica.child)));
      await ollama?.stop();
      ollama = undefined;
      if (dir) rmSync(dir, { recursive: true, force: true });
      dir = undefined;
    }
  }

  beforeAll(async () => {
    try {
      ollama = await new OllamaStandIn().start();
      ollama.behaviour = { firstTokenDelayMs: 0, tokenDelayMs: 2 };
      const env = { OLLAMA_BASE_URL: ollama.baseUrl, MCP_STATELESS: "true", LOG_LEVEL: "info", RATE_LIMIT_PER_MINUTE: "0", PROGRESS_INTERVAL_MS: "100" };
      replicas.push(...(await Promise.all([startChildServer(env), startChildServer(env)])));

      dir = mkdtempSync(join(tmpdir(), "mcp-lab-nginx-"));
      for (const folder of ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"]) mkdirSync(join(dir, folder));
      const port = await freePort();
      writeFileSync(
        join(dir, "nginx.conf"),
        nginxConf(
          dir,
          port,
          replicas.map((r) => r.port),
        ),
      );
      nginx = spawn(NGINX!, ["-p", dir, "-c", join(dir, "nginx.conf"), "-e", join(dir, "error.log")], { stdio: ["ignore", "pipe", "pipe"], detached: true });
      nginx.stdout?.on("data", (chunk: Buffer) => (nginxOutput += chunk.toString("utf8")));
      nginx.stderr?.on("data", (chunk: Buffer) => (nginxOutput += chunk.toString("utf8")));
      url = `http://127.0.0.1:${port}`;
      const up = await waitFor(async () => {
        if (nginx?.exitCode !== null) return false;
        return fetch(`${url}/health`).then(
          (response) => response.status === 200,
          () => false,
        );
      }, HANG_GUARD_MS);
      if (!up) {
        const log = (() => {
          try {
            return readFileSync(join(dir!, "error.log"), "utf8");
          } catch {
            return "";
          }
        })();
        throw new Error(`nginx did not come up (exit ${nginx?.exitCode}): ${nginxOutput}\n${log}`);
      }
    } catch (error) {
      await stopAll();
      throw error;
    }
  }, 150_000);

  afterAll(() => stopAll(), 30_000);

  const toolCallLines = (replica: ChildServer) =>
    replica.output
      .stderr()
      .split("\n")
      .filter((line) => line.includes('"msg":"tool call"'));

  it("spreads one client session's calls over both replicas, and every call succeeds", { timeout: 60_000 }, async () => {
    const { client, transport } = await connectStreamable(url);
    try {
      const adds = [];
      for (let i = 0; i < 50; i++) adds.push(await callTool(client, "add", { a: i, b: 1000 }));
      expect(adds.map((r) => r.isError ?? false)).toEqual(new Array(50).fill(false));
      expect(adds.map((r) => r.text)).toEqual(Array.from({ length: 50 }, (_, i) => String(i + 1000)));

      const asks = [];
      for (let i = 0; i < 10; i++) asks.push(await callTool(client, "ask_llm", { prompt: `replica ${i}` }));
      for (const [i, asked] of asks.entries()) {
        expect(asked.isError, asked.text).toBeFalsy();
        expect(asked.text).toContain(`Echo from qwen3:4b: replica ${i}`);
      }

      // Progress streams through nginx as it happens (proxy_buffering off), not in one lump at the
      // end: the stand-in holds the answer until two heartbeats have reached the client.
      const gate = ollama!.holdAnswers();
      let progress = 0;
      const slow = client.callTool({ name: "ask_llm", arguments: { prompt: "slow through the proxy" } }, undefined, { onprogress: () => void progress++ });
      await until(() => progress >= 2, "two progress notifications through nginx while the stand-in holds the answer");
      expect(gate.isOpen).toBe(false);
      gate.open();
      expect((await slow).isError).toBeFalsy();
    } finally {
      await transport.close().catch(() => undefined);
    }

    // Each replica logs a call after answering it: wait for the last lines.
    await until(() => replicas.flatMap(toolCallLines).length === 61, "both replicas to log their tool calls");
    const [first, second] = replicas.map(toolCallLines);
    const counts = `replica 1 logged ${first!.length} tool calls, replica 2 ${second!.length}`;
    expect(first!.length + second!.length, counts).toBe(61);
    expect(first!.length, counts).toBeGreaterThanOrEqual(10);
    expect(second!.length, counts).toBeGreaterThanOrEqual(10);
    expect(
      [...first!, ...second!].every((line) => line.includes('"outcome":"ok"')),
      counts,
    ).toBe(true);
    console.info(`replicas: ${counts}`);
  });
});
