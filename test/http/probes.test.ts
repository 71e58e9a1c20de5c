import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OllamaStandIn } from "../support/ollamaStandIn.js";
import { closedPortUrl } from "../support/ports.js";
import { startTestServer, type TestServer } from "../support/server.js";

describe("/health and /ready", () => {
  let ollama: OllamaStandIn;
  const servers: TestServer[] = [];
  const start = async (env: Record<string, string>) => {
    const server = await startTestServer(env);
    servers.push(server);
    return server.http!.server;
  };

  beforeAll(async () => {
    ollama = await new OllamaStandIn().start();
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.shutdown("test over")));
    await ollama.stop();
  });

  it("answers /health without touching a provider", async () => {
    const http = await start({ OLLAMA_BASE_URL: await closedPortUrl() });
    const response = await request(http).get("/health").expect(200);
    expect(response.body).toMatchObject({ status: "ok", version: expect.any(String) });
    await request(http).head("/health").expect(200);
  });

  it("is ready when Ollama answers and has the default model", async () => {
    const http = await start({ OLLAMA_BASE_URL: ollama.baseUrl, LLM_MODEL: "qwen3:4b" });
    const response = await request(http).get("/ready").expect(200);
    expect(response.body).toMatchObject({ status: "ready", model: "qwen3:4b", provider: "ollama" });
    expect(ollama.requests.some((r) => r.path.includes("chat") || r.path.includes("generate"))).toBe(false);
  });

  it("is not ready when the default model is not pulled, and says how to pull it", async () => {
    const http = await start({ OLLAMA_BASE_URL: ollama.baseUrl, LLM_MODEL: "llama9:70b" });
    const response = await request(http).get("/ready").expect(503);
    expect(response.body).toMatchObject({ status: "not_ready", model: "llama9:70b" });
    expect(response.body.reason).toContain("ollama pull llama9:70b");
  });

  it("is not ready when Ollama is unreachable, naming the URL", async () => {
    const url = await closedPortUrl();
    const http = await start({ OLLAMA_BASE_URL: url });
    const response = await request(http).get("/ready").expect(503);
    expect(response.body.reason).toContain(`Could not reach ollama at ${url}`);
  });

  it("is not ready for a cloud default model without a key", async () => {
    const http = await start({ LLM_MODEL: "openai/gpt-4o-mini", OPENAI_API_KEY: "" });
    const response = await request(http).get("/ready").expect(503);
    expect(response.body).toMatchObject({ provider: "openai", reason: expect.stringContaining("OPENAI_API_KEY") });
  });

  it("answers a hung Ollama within READY_TIMEOUT_MS", async () => {
    const http = await start({ OLLAMA_BASE_URL: ollama.baseUrl, READY_TIMEOUT_MS: "300" });
    ollama.behaviour.hang = true;
    const started = Date.now();
    const response = await request(http).get("/ready").expect(503);
    ollama.behaviour.hang = false;
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(response.body.reason).toMatch(/cancelled|did not answer|timeout|aborted/i);
  });

  it("answers unknown paths with 404", async () => {
    const http = await start({ OLLAMA_BASE_URL: ollama.baseUrl });
    await request(http).get("/nope").expect(404);
  });
});
