import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { delimiter, join } from "node:path";
import { freePort } from "./ports.js";
import { HANG_GUARD_MS, waitFor } from "./wait.js";

export const NGINX_SKIP = "nginx is not on PATH or in /usr/sbin: run scripts/install-test-deps.sh (Debian package nginx) and test again";

export function nginxBin(): string | undefined {
  const dirs = [...(process.env.PATH ?? "").split(delimiter), "/usr/sbin", "/usr/local/sbin"];
  return dirs.map((dir) => join(dir, "nginx")).find((path) => existsSync(path));
}

function conf(dir: string, listenPort: number, upstreams: number[]): string {
  // As root nginx needs a `user` whose workers can write the temp folders below: the current user.
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
      # The server checks Host (DNS-rebinding protection): pass the client's, not the upstream's name.
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

export type Nginx = { url: string; stop(): Promise<void> };

/** nginx as a round-robin load balancer in front of `upstreams` (loopback ports), in its own temp directory. */
export async function startNginx(upstreams: number[]): Promise<Nginx> {
  const bin = nginxBin();
  if (!bin) throw new Error(NGINX_SKIP);
  const dir = mkdtempSync(join(tmpdir(), "mcp-lab-nginx-"));
  for (const folder of ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"]) mkdirSync(join(dir, folder));
  const port = await freePort();
  writeFileSync(join(dir, "nginx.conf"), conf(dir, port, upstreams));
  let output = "";
  const child: ChildProcess = spawn(bin, ["-p", dir, "-c", join(dir, "nginx.conf"), "-e", join(dir, "error.log")], {
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      child.kill("SIGTERM");
      const killer = setTimeout(() => {
        try {
          process.kill(-child.pid!, "SIGKILL"); // the process group: master and workers
        } catch {
          // already gone
        }
      }, 3_000);
      await exited;
      clearTimeout(killer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const up = await waitFor(async () => {
    if (child.exitCode !== null) return true;
    return fetch(`${url}/health`).then(
      (response) => response.status === 200,
      () => false,
    );
  }, HANG_GUARD_MS);
  if (up && child.exitCode === null) return { url, stop };
  const log = existsSync(join(dir, "error.log")) ? readFileSync(join(dir, "error.log"), "utf8") : "";
  await stop();
  throw new Error(`nginx did not come up (exit ${child.exitCode}): ${output}\n${log}`);
}
