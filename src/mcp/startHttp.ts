import http, { type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { FastMCP } from "fastmcp";

/** Our handler in front of fastmcp's: answers, or calls `next` to let fastmcp route the request. */
export type FrontHandler = (req: IncomingMessage, res: ServerResponse, next: () => void) => void | Promise<void>;

export type HttpListener = { server: Server; port: number };

/**
 * Limits on the sockets themselves. mcp-proxy raises keep-alive to 300 s, which also lifts the
 * headers timeout past it; these are set after it has, so a client that sends its headers slowly,
 * trickles a body, or parks idle connections is cut off, and connections are counted.
 */
export type SocketLimits = { maxConnections: number; headersTimeoutMs: number; requestTimeoutMs: number; keepAliveTimeoutMs: number };

export type HttpStart = { host: string; port: number; stateless: boolean; sockets: SocketLimits; front: FrontHandler; onError: (error: unknown) => void };

/**
 * Starts fastmcp's HTTP transports (streamable HTTP on /mcp, legacy SSE on /sse + /messages)
 * behind `front`, bound where we say.
 */
export async function startHttpTransports(mcp: FastMCP, options: HttpStart): Promise<HttpListener> {
  const server = await capturingServer(options, () =>
    mcp.start({
      transportType: "httpStream",
      // fastmcp only parses request paths against this host; `capturingServer` binds ours.
      httpStream: { port: options.port, host: "localhost", endpoint: "/mcp", stateless: options.stateless, eventStore: false },
    }),
  );
  const { maxConnections, headersTimeoutMs, requestTimeoutMs, keepAliveTimeoutMs } = options.sockets;
  Object.assign(server, { maxConnections, headersTimeout: headersTimeoutMs, requestTimeout: requestTimeoutMs, keepAliveTimeout: keepAliveTimeoutMs });
  return { server, port: (server.address() as AddressInfo).port };
}

let startingUp: Promise<void> = Promise.resolve();

/**
 * The one place that reaches into fastmcp's start-up. fastmcp 4.x (through mcp-proxy) creates and
 * binds its http.Server itself: it has no hook that runs before its MCP routes, cannot report the
 * port it bound, and breaks its own routes when bound to "::". So for the duration of `start()`,
 * http.createServer is swapped for one that puts `front` before fastmcp's listener and binds to our
 * host. What would replace it: a framework that accepts a request handler to mount (the official
 * SDK v2's `createMcpHandler`, or mcp-proxy's handler exported on its own), served from our own
 * http.Server. (`eventStore: false` above is typed by our patch; mcp-proxy takes it as "none".)
 */
export async function capturingServer(options: Pick<HttpStart, "host" | "front" | "onError">, start: () => Promise<void>): Promise<Server> {
  // The swap is process-wide: two start-ups at once would capture each other's server, so they queue.
  const previous = startingUp;
  let done = () => {};
  startingUp = new Promise<void>((resolve) => (done = resolve));
  await previous;
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
    await start();
  } finally {
    http.createServer = original;
    done();
  }
  if (!created) throw new Error("fastmcp did not create an HTTP server");
  return created;
}
