import http, { type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callTool, connectClient, startTestServer, type TestServer } from "../support/server.js";
import { until } from "../support/wait.js";

type Mode = "endless" | "longLine" | "hugeTags";

/**
 * An "Ollama" that misbehaves on purpose: it streams an answer that never ends, sends one line of
 * 50 MB with no line break, or answers /api/tags with 400 MB.
 */
class HostileUpstream {
  mode: Mode = "endless";
  closedEarly = 0;
  private readonly server = http.createServer((req, res) => this.answer(req.url ?? "/", res));
  port = 0;

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private answer(url: string, res: ServerResponse): void {
    res.on("close", () => {
      if (!res.writableFinished) this.closedEarly++;
    });
    if (url === "/api/tags")
      return this.stream(
        res,
        "application/json",
        (i) => (i === 0 ? '{"models":[' : `{"name":"m${i}:latest","size":1,"details":{"family":"${"x".repeat(4000)}"}},`),
        100_000,
      );
    if (this.mode === "longLine") return this.stream(res, "application/x-ndjson", (i) => (i === 0 ? '{"message":{"content":"' : "y".repeat(64 * 1024)), 800);
    this.stream(res, "application/x-ndjson", (i) => `${JSON.stringify({ message: { content: `word${i} ` }, done: false })}\n`, Infinity);
  }

  /** Writes `next(i)` as fast as the socket takes it, `count` times or until the client goes. */
  private stream(res: ServerResponse, type: string, next: (i: number) => string, count: number): void {
    res.writeHead(200, { "content-type": type });
    let i = 0;
    const pump = () => {
      while (i < count && !res.destroyed) {
        const more = res.write(next(i++));
        if (!more) return void res.once("drain", pump);
      }
      if (!res.destroyed) res.end();
    };
    pump();
  }
}

describe("a hostile or broken upstream", () => {
  let upstream: HostileUpstream;
  let server: TestServer;
  let client: Client;
  beforeAll(async () => {
    upstream = await new HostileUpstream().start();
    server = await startTestServer({
      OLLAMA_BASE_URL: `http://127.0.0.1:${upstream.port}`,
      MAX_OUTPUT_CHARS: "20000",
      LLM_MAX_RETRIES: "0",
      MODELS_CACHE_TTL_MS: "0",
    });
    client = await connectClient(server.url, "streamable-http");
    // The embedded store loads on first use (~200 MB of WebAssembly memory); load it now.
    const { conversations } = server.services;
    await conversations.record(conversations.start("warm-up"), { role: "user", content: "x" }, { role: "assistant", content: "y" });
  });
  afterAll(async () => {
    await client.close();
    await server.shutdown("test over");
    await upstream.stop();
  });

  it("stops reading an answer that never ends once it passes MAX_OUTPUT_CHARS, and hangs up", async () => {
    upstream.mode = "endless";
    const heapBefore = process.memoryUsage().heapUsed;
    const result = await callTool(client, "ask_llm", { prompt: "go on forever" });
    expect(result.isError).toBeFalsy();
    expect(result.text).toContain("[cut at 20000 characters by MAX_OUTPUT_CHARS; the answer was longer]");
    expect(result.structuredContent).toMatchObject({ truncated: true, finishReason: "length" });
    // Unbounded, this answer reached 2.8 GB in 20 s; bounded, what is kept stays small.
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(100 * 1024 * 1024);
    await until(() => upstream.closedEarly >= 1, "the server to hang up on the endless answer");
  });

  it("refuses a line too long to be a real one, without stalling the server", async () => {
    upstream.mode = "longLine";
    const call = callTool(client, "ask_llm", { prompt: "one long line" });
    const health = await fetch(`${server.url}/health`);
    expect(health.status).toBe(200);
    const result = await call;
    expect(result.isError).toBe(true);
    expect(result.text).toContain("longer than 1048576 characters");
  });

  it("refuses a /api/tags answer larger than any real one, and keeps serving", async () => {
    const result = await callTool(client, "list_models", { provider: "ollama" });
    expect(result.isError).toBe(true);
    expect(result.text).toContain("larger than 16777216 bytes");
    expect((await callTool(client, "add", { a: 2, b: 2 })).text).toBe("4");
  });
});
