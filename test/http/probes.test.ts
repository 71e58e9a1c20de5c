import request from "supertest";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ReadinessProbe, type ReadyReport } from "../../src/http/probes.js";
import { isChat, OllamaStandIn } from "../support/ollamaStandIn.js";
import { closedPortUrl } from "../support/ports.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { until } from "../support/wait.js";

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
    expect(ollama.requests.filter((r) => isChat(r) || r.path === "/api/generate")).toEqual([]);
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

  it("answers a hung Ollama within READY_TIMEOUT_MS, and hangs up on it", async () => {
    const http = await start({ OLLAMA_BASE_URL: ollama.baseUrl, READY_TIMEOUT_MS: "300" });
    const before = ollama.requests.length;
    ollama.behaviour.hang = true;
    // The stand-in never answers: only the server's own deadline can produce this 503 (a server
    // without one would hang here until the test times out).
    const response = await request(http).get("/ready").expect(503);
    ollama.behaviour.hang = false;
    expect(response.body.reason).toMatch(/cancelled|did not answer|timeout|aborted/i);
    const asked = ollama.requests.slice(before);
    expect(asked.length).toBeGreaterThan(0);
    await until(() => asked.every((r) => r.abortedAt !== undefined), "the server to close the readiness request it gave up on");
  });

  it("answers unknown paths with 404", async () => {
    const http = await start({ OLLAMA_BASE_URL: ollama.baseUrl });
    await request(http).get("/nope").expect(404);
  });
});

describe("ReadinessProbe, on a fake clock", () => {
  const ready: ReadyReport = { ok: true, body: { status: "ready" } };

  /** A check that answers when the test says so, counting how often it was asked. */
  function controlledCheck() {
    const answers: Array<(report: ReadyReport) => void> = [];
    const check = vi.fn(() => new Promise<ReadyReport>((resolve) => answers.push(resolve)));
    return { check, answer: (report: ReadyReport) => answers.shift()!(report) };
  }

  it("asks upstream at most once per TTL, counted from when the answer came", async () => {
    let now = 0;
    const { check, answer } = controlledCheck();
    const probe = new ReadinessProbe(check, 5_000, () => now);
    const first = probe.report();
    now = 1_000;
    answer(ready);
    await first;
    now = 5_999;
    expect(await probe.report()).toBe(ready);
    expect(check).toHaveBeenCalledTimes(1);
    now = 6_000;
    const second = probe.report();
    expect(check).toHaveBeenCalledTimes(2);
    answer({ ok: false, body: { status: "not_ready" } });
    expect((await second).ok).toBe(false);
  });

  it("runs one check however many callers wait for it", async () => {
    const { check, answer } = controlledCheck();
    const probe = new ReadinessProbe(check, 0, () => 0);
    const waiting = Array.from({ length: 20 }, () => probe.report());
    answer(ready);
    expect(await Promise.all(waiting)).toEqual(new Array(20).fill(ready));
    expect(check).toHaveBeenCalledTimes(1);
  });

  it("turns a check that throws into a not-ready report, cached like any other", async () => {
    let now = 0;
    const check = vi.fn(async (): Promise<ReadyReport> => {
      throw new Error("The operation was aborted due to timeout");
    });
    const probe = new ReadinessProbe(check, 1_000, () => now);
    expect(await probe.report()).toEqual({ ok: false, body: { status: "not_ready", reason: "The operation was aborted due to timeout" } });
    now = 999;
    await probe.report();
    expect(check).toHaveBeenCalledTimes(1);
  });
});
