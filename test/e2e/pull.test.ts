import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { pullRefusal, registryHost } from "../../src/tools/pullModel.js";
import { callTool, connectClient, type Stack, startTestServer, startWithStandIn } from "../support/server.js";
import { until } from "../support/wait.js";

describe("pull_model on a server others can reach", () => {
  it("is off unless the owner turns it on when the server listens beyond loopback", () => {
    expect(loadConfig({ HOST: "0.0.0.0", MCP_AUTH_TOKEN: "pull-token-0123456789abcdef" }).pull.enabled).toBe(false);
    expect(loadConfig({ HOST: "0.0.0.0", MCP_AUTH_TOKEN: "pull-token-0123456789abcdef", PULL_ENABLED: "true" }).pull.enabled).toBe(true);
    expect(loadConfig({ HOST: "127.0.0.1" }).pull.enabled).toBe(true);
    expect(loadConfig({ MCP_TRANSPORT: "stdio", HOST: "::", MCP_ALLOW_UNAUTHENTICATED: "true" }).pull.enabled).toBe(true);
    expect(() => loadConfig({ PULL_ENABLED: "sometimes" })).toThrow(/PULL_ENABLED/);
  });

  it("is not offered at all when off", async () => {
    const token = "pull-token-0123456789abcdef";
    const server = await startTestServer({ HOST: "0.0.0.0", MCP_AUTH_TOKEN: token, ALLOWED_HOSTS: "127.0.0.1" });
    const client = await connectClient(server.url, "streamable-http", { authorization: `Bearer ${token}` });
    const tools = (await client.listTools()).tools.map((tool) => tool.name);
    expect(tools).toContain("ask_llm");
    expect(tools).not.toContain("pull_model");
    await client.close();
    await server.shutdown("test over");
  });

  it("knows a registry host from a library namespace", () => {
    expect(registryHost("evil.example.com/ns/model:tag")).toBe("evil.example.com");
    expect(registryHost("169.254.169.254/x")).toBe("169.254.169.254");
    expect(registryHost("localhost:5000/x")).toBe("localhost:5000");
    expect(registryHost("library/qwen3:4b")).toBeUndefined();
    expect(registryHost("qwen3:4b")).toBeUndefined();
    expect(pullRefusal("hf.co/user/repo:Q4_K_M", [])).toContain("registry hf.co");
    expect(pullRefusal("hf.co/user/repo:Q4_K_M", ["hf.co/*"])).toBeUndefined();
    expect(pullRefusal("llama3:70b", ["qwen3:*", "gemma3:*"])).toContain("PULL_ALLOWED: qwen3:*, gemma3:*");
    expect(pullRefusal("qwen3:14b", ["qwen3:*"])).toBeUndefined();
  });
});

describe("pull_model where it is on", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startWithStandIn();
  });
  afterAll(() => stack.stop());

  it("refuses names with a registry host before Ollama is asked", async () => {
    for (const model of ["evil.example.com/ns/model:tag", "169.254.169.254/x"]) {
      const result = await callTool(stack.client, "pull_model", { model });
      expect(result.isError).toBe(true);
      expect(result.text).toContain("pulls only from Ollama's library");
    }
    expect(stack.ollama.requests.filter((r) => r.path === "/api/pull")).toHaveLength(0);
  });

  it("runs pulls one at a time", async () => {
    // The first pull is held after its first status line until the second has been refused.
    const gate = stack.ollama.holdAnswers();
    const first = callTool(stack.client, "pull_model", { model: "qwen3:14b" });
    await until(() => gate.waiting === 1, "the first pull to be under way");
    const second = await callTool(stack.client, "pull_model", { model: "gemma3:4b" });
    expect(second.isError).toBe(true);
    expect(second.text).toContain("A pull of 'qwen3:14b' is running; pulls run one at a time");
    gate.open();
    expect((await first).isError).toBeFalsy();
    stack.ollama.reset();
    expect((await callTool(stack.client, "pull_model", { model: "gemma3:4b" })).isError).toBeFalsy();
  });
});
