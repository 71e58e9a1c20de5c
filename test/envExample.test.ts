import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";

const text = (path: string) => readFileSync(new URL(`../${path}`, import.meta.url), "utf8");

describe(".env.example and the README", () => {
  const example = Object.fromEntries(
    text(".env.example")
      .split("\n")
      .filter((line) => /^[A-Z_]+=/.test(line))
      .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
  );
  const known = [...text("src/env.ts").matchAll(/^ {2}([A-Z_]+): /gm)].map((m) => m[1]!);

  it("documents every variable the configuration reads, and nothing else", () => {
    expect(Object.keys(example).sort()).toEqual([...known].sort());
  });

  it("shows the real defaults: loading it changes nothing", () => {
    expect(loadConfig(example)).toEqual(loadConfig({}));
  });

  it("lists every variable in the README", () => {
    const readme = text("README.md");
    expect(known.filter((name) => !readme.includes(`\`${name}\``))).toEqual([]);
  });
});
