import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { RateLimiter } from "../../src/http/rateLimit.js";
import { parseHostName } from "../../src/http/security.js";
import { type SessionHandle, SessionRegistry } from "../../src/http/sessions.js";
import { canonicalTarget } from "../../src/http/target.js";

describe("canonicalTarget", () => {
  it("accepts one spelling of each path and refuses the rest", () => {
    expect(canonicalTarget("/mcp")).toEqual({ path: "/mcp", query: "" });
    expect(canonicalTarget("/messages?sessionId=a-b%20c")).toEqual({ path: "/messages", query: "sessionId=a-b%20c" });
    expect(canonicalTarget("/.well-known/oauth-protected-resource")).toEqual({ path: "/.well-known/oauth-protected-resource", query: "" });
    for (const bad of ["/./mcp", "/%2e/mcp", "/x/../mcp", "/mcp#x", "//mcp", "\\mcp", "/\\mcp", "/mcp/", "/m%63p", "mcp", "", "/mcp?x=1#y", "/.", "/.."]) {
      expect(canonicalTarget(bad), bad).toBeUndefined();
    }
  });
});

describe("parseHostName", () => {
  it("takes names, IPv4 and bracketed IPv6 with a port, and nothing mixed", () => {
    expect(parseHostName("MCP.example.com:443")).toBe("mcp.example.com");
    expect(parseHostName("mcp.example.com.")).toBe("mcp.example.com");
    expect(parseHostName("127.0.0.1:8080")).toBe("127.0.0.1");
    expect(parseHostName("[::1]:8080")).toBe("[::1]");
    for (const bad of ["[::1].evil.com", "[::1]x", "evil.com:80:80", "a b", "", "exa_mple.com", "[nope]", "-x.com"])
      expect(parseHostName(bad), bad).toBeUndefined();
  });
});

describe("RateLimiter", () => {
  it("keeps at most maxKeys buckets, dropping the least recently used", () => {
    let now = 0;
    const limiter = new RateLimiter(60, () => now, 100);
    for (let i = 0; i < 10_000; i++) limiter.take(`address-${i}`);
    expect(limiter.size).toBe(100);
    now += 1_000;
    expect(limiter.take("address-9999")).toBe(0);
  });

  it("refills a bucket over time", () => {
    let now = 0;
    const limiter = new RateLimiter(2, () => now);
    expect([limiter.take("a"), limiter.take("a")]).toEqual([0, 0]);
    expect(limiter.take("a")).toBe(30_000);
    now += 30_000;
    expect(limiter.take("a")).toBe(0);
  });

  it("says how long until the next request may go, less by the time already waited, without counting a refused one", () => {
    let now = 0;
    const limiter = new RateLimiter(3, () => now);
    expect([limiter.take("a"), limiter.take("a"), limiter.take("a")]).toEqual([0, 0, 0]);
    expect(limiter.take("a")).toBe(20_000);
    now = 5_000;
    expect(limiter.take("a")).toBe(15_000);
    expect(limiter.peek("a")).toBe(15_000);
    now = 19_999;
    expect(limiter.take("a")).toBe(1);
    now = 20_000;
    expect(limiter.take("a")).toBe(0);
    expect(limiter.take("a")).toBe(20_000);
  });
});

describe("SessionRegistry", () => {
  const handle = (sessionId: string): SessionHandle & { closed: boolean } => ({
    sessionId,
    closed: false,
    async close() {
      this.closed = true;
    },
  });

  it("counts sessions per caller and per address, and reaps only idle ones that run nothing", async () => {
    let now = 0;
    const registry = new SessionRegistry(1_000, () => now);
    const [a, b, c] = [handle("a"), handle("b"), handle("c")];
    registry.opened(a, { id: "token:1", address: "10.0.0.1" });
    registry.opened(b, { id: "token:1", address: "10.0.0.2" });
    registry.opened(c, { id: "token:2", address: "10.0.0.1" });
    expect(registry.heldBy({ id: "token:1", address: "10.0.0.1" })).toEqual({ byOwner: 2, byAddress: 2 });
    expect(registry.ownerOf("c")).toBe("token:2");
    const release = registry.hold("a");
    now = 600;
    registry.hold("b")();
    now = 1_500;
    expect(await registry.sweep()).toBe(1);
    expect([a.closed, b.closed, c.closed]).toEqual([false, false, true]);
    release();
    now = 2_700;
    expect(await registry.sweep()).toBe(2);
    expect(registry.size).toBe(0);
    expect(registry.ownerOf("a")).toBeUndefined();
  });
});

describe("SessionRegistry reaper, on a fake clock", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  const handle = (sessionId: string) => {
    const closed = { at: undefined as number | undefined };
    const start = Date.now();
    return {
      sessionId,
      closed,
      close: async () => {
        closed.at = Date.now() - start;
      },
    } satisfies SessionHandle & Record<string, unknown>;
  };

  it("closes a session once it has been idle for longer than the idle timeout, at the next sweep", async () => {
    const registry = new SessionRegistry(1_000);
    const idle = handle("idle");
    registry.opened(idle, { id: "token:1", address: "10.0.0.1" });
    const stop = registry.startReaper();
    // Sweeps every 500 ms (half the idle timeout): at 1,000 ms the session is idle for exactly the timeout, not longer.
    await vi.advanceTimersByTimeAsync(1_499);
    expect(idle.closed.at).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(idle.closed.at).toBe(1_500);
    expect(registry.size).toBe(0);
    stop();
    expect(vi.getTimerCount()).toBe(0);
  });

  it("keeps a session running a call however long the call takes, and reaps it once it has been idle since", async () => {
    const registry = new SessionRegistry(1_000);
    const busy = handle("busy");
    registry.opened(busy, { id: "token:1", address: "10.0.0.1" });
    const stop = registry.startReaper();
    const release = registry.hold("busy");
    await vi.advanceTimersByTimeAsync(10_000);
    expect(busy.closed.at).toBeUndefined();
    release();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(busy.closed.at).toBeUndefined();
    await vi.advanceTimersByTimeAsync(500);
    expect(busy.closed.at).toBe(11_500);
    stop();
  });
});
