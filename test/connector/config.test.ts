import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config.js";
import { collect, spawnServer } from "../support/spawn.js";

const PASSWORD = "a-proper-owner-password-42";

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe("the connector door's settings", () => {
  it("is off unless CONNECTOR_OWNER_PASSWORD is set; PUBLIC_URL alone turns nothing on", () => {
    expect(loadConfig({}).connector).toBeUndefined();
    const publicOnly = loadConfig({ PUBLIC_URL: "https://mcp-lab.fly.dev/" });
    expect(publicOnly.connector).toBeUndefined();
    // PUBLIC_URL's host is one of the server's own names.
    expect(publicOnly.security.allowedHosts).toContain("mcp-lab.fly.dev");
  });

  it("is on with both, over HTTP only", () => {
    expect(loadConfig({ PUBLIC_URL: "https://mcp-lab.fly.dev", CONNECTOR_OWNER_PASSWORD: PASSWORD }).connector).toEqual({
      publicUrl: "https://mcp-lab.fly.dev",
      ownerPassword: PASSWORD,
    });
    expect(loadConfig({ PUBLIC_URL: "https://mcp-lab.fly.dev", CONNECTOR_OWNER_PASSWORD: PASSWORD }, ["--stdio"]).connector).toBeUndefined();
  });

  it("says what to set when a value is missing or weak, never showing the password", () => {
    expect(problems({ CONNECTOR_OWNER_PASSWORD: PASSWORD })).toEqual([
      expect.stringContaining("needs PUBLIC_URL: set it to the address clients reach this server at"),
    ]);
    for (const weak of ["short-secret", "aaaaaaaaaaaaaaaaaaaaaaaa", "abababababababababab"]) {
      const [problem] = problems({ PUBLIC_URL: "https://mcp-lab.fly.dev", CONNECTOR_OWNER_PASSWORD: weak });
      expect(problem).toContain("CONNECTOR_OWNER_PASSWORD=(hidden) is too weak: use at least 16 characters with at least 8 different ones");
      expect(problem).not.toContain(weak);
    }
    expect(problems({ PUBLIC_URL: "https://mcp-lab.fly.dev", CONNECTOR_OWNER_PASSWORD: PASSWORD, MCP_AUTH_TOKEN: PASSWORD })).toEqual([
      expect.stringContaining("must differ from MCP_AUTH_TOKEN and METRICS_TOKEN"),
    ]);
    expect(problems({ PUBLIC_URL: "http://mcp-lab.fly.dev", CONNECTOR_OWNER_PASSWORD: PASSWORD })).toEqual([
      expect.stringContaining("must be an https:// address"),
    ]);
    expect(problems({ PUBLIC_URL: "http://127.0.0.1:8080", CONNECTOR_OWNER_PASSWORD: PASSWORD })).toEqual([]);
    for (const bad of ["https://mcp-lab.fly.dev/mcp", "https://user:pw@mcp-lab.fly.dev", "mcp-lab.fly.dev", "https://mcp-lab.fly.dev/?x=1"]) {
      expect(problems({ PUBLIC_URL: bad })[0]).toContain("expected the server's public address without a path");
    }
  });

  it("stops the process with exit code 2 and the problem, before listening", async () => {
    const output = collect(spawnServer([], { PORT: "0", HOST: "127.0.0.1", CONNECTOR_OWNER_PASSWORD: "too-weak" }));
    expect(await output.exit).toBe(2);
    expect(output.stderr()).toContain("needs PUBLIC_URL");
    expect(output.stderr()).toContain("CONNECTOR_OWNER_PASSWORD=(hidden) is too weak");
    expect(output.stderr()).not.toContain("too-weak");
  });
});
