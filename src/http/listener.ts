import http, { type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { FastMCP } from "fastmcp";

export type FrontDoor = (req: IncomingMessage, res: ServerResponse, next: () => void) => void | Promise<void>;

export type HttpListener = { server: Server; port: number };

/**
 * Limits on the sockets themselves. mcp-proxy raises keep-alive to 300 s, which also lifts the
 * headers timeout past it; these are set after it has, so a client that sends its headers slowly,
 * trickles a body, or parks idle connections is cut off, and connections are counted.
 */
export type SocketLimits = { maxConnections: number; headersTimeoutMs: number; requestTimeoutMs: number; keepAliveTimeoutMs: number };

/**
 * Starts fastmcp's HTTP transports (streamable HTTP on /mcp, legacy SSE on /sse + /messages)
 * with our own handler in front of every request, bound where we say.
 *
 * fastmcp (through mcp-proxy) creates and binds its http.Server itself: it offers no hook that
 * runs before its MCP routes, cannot report the port it bound, and breaks its own routes when
 * bound to "::" (it builds `new URL(path, "http://::")`). So for the duration of `start()` we
 * hand it an http.createServer that puts `front` before its listener and binds to our host;
 * fastmcp itself is told "localhost", which it only uses to parse request paths.
 */
export async function startHttpTransports(
  mcp: FastMCP,
  options: {
    host: string;
    port: number;
    stateless: boolean;
    maxBodyBytes: number;
    sessionIdleTimeoutMs: number;
    sockets: SocketLimits;
    front: FrontDoor;
    onError: (error: unknown) => void;
  },
): Promise<HttpListener> {
  const original = http.createServer;
  let created: Server | undefined;
  http.createServer = ((...args: unknown[]) => {
    const listener = args.find((arg) => typeof arg === "function") as http.RequestListener;
    const server = original((req, res) => {
      Promise.resolve(options.front(req, res, () => listener(req, res))).catch((error: unknown) => {
        options.onError(error);
        if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
        res.end("internal error");
      });
    });
    const listen = server.listen.bind(server);
    server.listen = ((port: number) => listen(port, options.host)) as typeof server.listen;
    created = server;
    return server;
  }) as typeof http.createServer;
  try {
    await mcp.start({
      transportType: "httpStream",
      httpStream: {
        port: options.port,
        host: "localhost",
        endpoint: "/mcp",
        stateless: options.stateless,
        // Both reach mcp-proxy through our fastmcp patch (patches/): bodies sent without a
        // Content-Length are capped too, and streamable sessions idle this long are closed.
        maxBodySize: options.maxBodyBytes,
        sessionIdleTimeout: options.sessionIdleTimeoutMs,
        // No event store (patched through): mcp-proxy's default keeps the last 1,000 messages of
        // every session — answers included — only so a dropped stream could be replayed, but a
        // call whose connection drops is cancelled here anyway (frontDoor.ts). Measured: 20
        // sessions × 800 calls held 17.5 MB more heap with it (BENCHMARKS.md).
        eventStore: false,
      },
    });
  } finally {
    http.createServer = original;
  }
  if (!created) throw new Error("fastmcp did not create an HTTP server");
  const { maxConnections, headersTimeoutMs, requestTimeoutMs, keepAliveTimeoutMs } = options.sockets;
  Object.assign(created, { maxConnections, headersTimeout: headersTimeoutMs, requestTimeout: requestTimeoutMs, keepAliveTimeout: keepAliveTimeoutMs });
  return { server: created, port: (created.address() as AddressInfo).port };
}
