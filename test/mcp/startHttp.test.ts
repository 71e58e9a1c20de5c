import http from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { capturingServer } from "../../src/mcp/startHttp.js";

/** Stands in for fastmcp's start(): creates its own server and binds it as mcp-proxy does (port and host, then the "listening" event). */
function frameworkStart(name: string, servers: http.Server[]) {
  return async () => {
    await new Promise((resolve) => setImmediate(resolve));
    const server = http.createServer((_req, res) => res.end(name));
    servers.push(server);
    await new Promise<void>((resolve, reject) => {
      server.once("listening", resolve).once("error", reject);
      server.listen(0, "localhost");
    });
  };
}

async function get(server: http.Server): Promise<string> {
  const { port } = server.address() as { port: number };
  const res = await fetch(`http://127.0.0.1:${port}/`);
  return res.text();
}

describe("capturingServer", () => {
  const servers: http.Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
  });

  it("keeps two start-ups at once apart: each gets its own server, with its own front handler", async () => {
    const front = (tag: string) => (_req: http.IncomingMessage, res: http.ServerResponse, next: () => void) => {
      res.setHeader("x-front", tag);
      next();
    };
    const [a, b] = await Promise.all([
      capturingServer({ host: "127.0.0.1", front: front("a"), onError: () => undefined }, frameworkStart("framework a", servers)),
      capturingServer({ host: "127.0.0.1", front: front("b"), onError: () => undefined }, frameworkStart("framework b", servers)),
    ]);
    expect(a).not.toBe(b);
    expect(await get(a)).toBe("framework a");
    expect(await get(b)).toBe("framework b");
  });

  it("puts http.createServer back even when the start-up fails, and the next one still starts", async () => {
    const original = http.createServer;
    await expect(
      capturingServer({ host: "127.0.0.1", front: (_q, _s, next) => next(), onError: () => undefined }, async () => Promise.reject(new Error("port taken"))),
    ).rejects.toThrow("port taken");
    expect(http.createServer).toBe(original);
    const server = await capturingServer({ host: "127.0.0.1", front: (_q, _s, next) => next(), onError: () => undefined }, frameworkStart("after", servers));
    expect(await get(server)).toBe("after");
  });
});
