import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/config.js";

describe("loadConfig", () => {
  it("has defaults for everything", () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 8080,
      host: "127.0.0.1",
      transport: "http",
      stateless: false,
      ollama: { baseUrl: "http://localhost:11434" },
      openai: { apiKey: undefined, baseUrl: "https://api.openai.com/v1" },
      defaultModel: "qwen3:4b",
      logLevel: "info",
    });
  });

  it("reads every variable, trims trailing slashes from URLs and treats empty as unset", () => {
    const config = loadConfig({
      PORT: "9000",
      HOST: "::",
      MCP_TRANSPORT: "stdio",
      MCP_STATELESS: "true",
      OLLAMA_BASE_URL: "http://ollama.internal:11434/",
      OPENAI_API_KEY: "",
      OPENAI_BASE_URL: "https://example.test/v1/",
      LLM_MODEL: "openai/gpt-4o-mini",
      LOG_LEVEL: "debug",
    });
    expect(config).toMatchObject({
      port: 9000,
      host: "::",
      transport: "stdio",
      stateless: true,
      ollama: { baseUrl: "http://ollama.internal:11434" },
      openai: { apiKey: undefined, baseUrl: "https://example.test/v1" },
      defaultModel: "openai/gpt-4o-mini",
      logLevel: "debug",
    });
  });

  it("lets --stdio override MCP_TRANSPORT", () => {
    expect(loadConfig({ MCP_TRANSPORT: "http" }, ["--stdio"]).transport).toBe("stdio");
  });

  it("names every bad variable and what it expects", () => {
    let error: unknown;
    try {
      loadConfig({ PORT: "abc", OLLAMA_BASE_URL: "not a url", MCP_TRANSPORT: "carrier-pigeon", LOG_LEVEL: "loud" });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toHaveLength(4);
    expect(problems).toContain('PORT="abc" is not valid: expected a whole number from 0 to 65535');
    expect(problems).toContain('OLLAMA_BASE_URL="not a url" is not valid: expected an http:// or https:// URL');
    expect(problems).toContain('MCP_TRANSPORT="carrier-pigeon" is not valid: expected one of "http" or "stdio"');
    expect(problems.find((p) => p.startsWith("LOG_LEVEL"))).toContain("one of fatal, error");
  });

  it("refuses ports out of range and non-http URLs", () => {
    expect(() => loadConfig({ PORT: "70000" })).toThrow(/PORT="70000"/);
    expect(() => loadConfig({ OPENAI_BASE_URL: "ftp://x" })).toThrow(/OPENAI_BASE_URL/);
  });
});

describe("document settings", () => {
  it("embed with embeddinggemma at its own length by default, and offer add_document only on loopback or stdio unless told", () => {
    expect(loadConfig({}).docs).toEqual({
      embedModel: "embeddinggemma",
      embedDimensions: 0,
      maxDocumentBytes: 2_097_152,
      maxBytesPerOwner: 16_777_216,
      addEnabled: true,
    });
    expect(loadConfig({ HOST: "::", MCP_AUTH_TOKEN: "a".repeat(32) }).docs.addEnabled).toBe(false);
    expect(loadConfig({ HOST: "::", MCP_AUTH_TOKEN: "a".repeat(32) }, ["--stdio"]).docs.addEnabled).toBe(true);
    expect(loadConfig({ HOST: "::", MCP_AUTH_TOKEN: "a".repeat(32), ADD_DOCUMENT_ENABLED: "true" }).docs.addEnabled).toBe(true);
    expect(loadConfig({ ADD_DOCUMENT_ENABLED: "false" }).docs.addEnabled).toBe(false);
  });

  it("refuses an embedding model name with path tricks and a vector length the index cannot take", () => {
    expect(() => loadConfig({ EMBED_MODEL: "../etc" })).toThrow('EMBED_MODEL="../etc" is not valid: expected an Ollama model name, e.g. embeddinggemma');
    expect(() => loadConfig({ EMBED_DIMENSIONS: "4096" })).toThrow('EMBED_DIMENSIONS="4096" is not valid: expected a whole number from 0 to 2000');
  });
});
