import { describe, expect, it } from "vitest";
import { globMatches, ModelAliases } from "../../src/api/aliases.js";
import { loadConfig } from "../../src/config.js";

describe("MODEL_ALIASES", () => {
  it("matches whole names, * standing for any run of characters", () => {
    expect(globMatches("claude-*-haiku*", "claude-3-5-haiku-20241022")).toBe(true);
    expect(globMatches("claude-*haiku*", "claude-haiku-4-5-20251001")).toBe(true);
    expect(globMatches("claude-*-haiku*", "claude-haiku-4-5")).toBe(false);
    expect(globMatches("gpt-4o", "gpt-4o-mini")).toBe(false);
    expect(globMatches("*", "")).toBe(true);
    expect(globMatches("a*b*c", "aXXbYYc")).toBe(true);
    expect(globMatches("a*b*c", "aXXbYY")).toBe(false);
  });

  it("stays linear on a pattern and name built to make a backtracking matcher explode", () => {
    const pattern = `${"a*".repeat(40)}b`;
    const name = "a".repeat(5_000);
    // A regular expression from this pattern takes exponential time; the two-pointer walk at most length × pattern steps.
    expect(globMatches(pattern, name)).toBe(false);
  });

  it("takes the first rule that matches, and leaves other names alone", () => {
    const aliases = new ModelAliases([
      { pattern: "claude-*haiku*", model: "qwen3:4b" },
      { pattern: "claude-*", model: "qwen3-coder:30b" },
      { pattern: "fast", model: "openai/gpt-4o-mini" },
    ]);
    expect(aliases.resolve("claude-haiku-4-5-20251001")).toBe("qwen3:4b");
    expect(aliases.resolve("claude-sonnet-4-5")).toBe("qwen3-coder:30b");
    expect(aliases.resolve("fast")).toBe("openai/gpt-4o-mini");
    expect(aliases.resolve("gemma3:12b")).toBe("gemma3:12b");
    expect(aliases.exactNames()).toEqual([{ pattern: "fast", model: "openai/gpt-4o-mini" }]);
  });

  it("is read from the environment as pattern=model pairs, and a malformed rule is refused by name", () => {
    expect(loadConfig({ MODEL_ALIASES: " claude-*haiku*=qwen3:4b , fast=openai/gpt-4o-mini " }).api.aliases).toEqual([
      { pattern: "claude-*haiku*", model: "qwen3:4b" },
      { pattern: "fast", model: "openai/gpt-4o-mini" },
    ]);
    expect(() => loadConfig({ MODEL_ALIASES: "claude-*" })).toThrow(/MODEL_ALIASES="claude-\*" is not valid: expected comma-separated pattern=model rules/);
    expect(() => loadConfig({ MODEL_ALIASES: "a=b=c" })).toThrow(/MODEL_ALIASES/);
  });
});
