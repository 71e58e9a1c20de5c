import http from "node:http";
import type { AddressInfo } from "node:net";

/**
 * The floor for any gateway process on this machine: a bare node:http pass-through that forwards
 * each request to the provider over a keep-alive agent and pipes the streamed answer back, with
 * no MCP, no parsing and no logging. Run as its own process with PROVIDER_URL set; prints
 * {"port":N} on stdout.
 */

const provider = new URL(process.env.PROVIDER_URL ?? "http://127.0.0.1:11434");
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

const server = http.createServer((req, res) => {
  const upstream = http.request({ host: provider.hostname, port: provider.port, path: req.url, method: req.method, headers: req.headers, agent }, (answer) => {
    res.writeHead(answer.statusCode ?? 502, answer.headers);
    answer.pipe(res);
  });
  upstream.on("error", () => res.destroy());
  req.pipe(upstream);
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`));
process.on("SIGTERM", () => process.exit(0));
