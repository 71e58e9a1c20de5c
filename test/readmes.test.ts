import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "./support/spawn.js";

/**
 * README.ja.md is README.md in Japanese, section for section: the same headings (levels, in order),
 * the same code blocks byte for byte, the same variables and the same inline code (commands, file
 * names, messages). Only prose is translated, and placeholders of several English words.
 */

type Parsed = { headings: string[]; blocks: string[]; prose: string };

function parse(path: string): Parsed {
  const lines = readFileSync(join(ROOT, path), "utf8").split("\n");
  const headings: string[] = [];
  const blocks: string[] = [];
  const prose: string[] = [];
  let block: string[] | undefined;
  let fence = "";
  for (const line of lines) {
    const opening = /^(\s*)(```+)/.exec(line);
    if (block) {
      block.push(line);
      if (opening && opening[2] === fence && line.trim() === fence) {
        blocks.push(block.join("\n"));
        block = undefined;
      }
    } else if (opening) {
      block = [line];
      fence = opening[2]!;
    } else {
      prose.push(line);
      const heading = /^(#{1,6}) /.exec(line);
      if (heading) headings.push(heading[1]!);
    }
  }
  expect(block, `${path}: a code block is never closed`).toBeUndefined();
  return { headings, blocks, prose: prose.join("\n") };
}

/** Names like MCP_AUTH_TOKEN, plus the one-word variables the server reads (PORT, HOST). */
function variables(text: string): Set<string> {
  const names = new Set([...text.matchAll(/\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b/g)].map((m) => m[0]));
  for (const single of ["PORT", "HOST"]) if (new RegExp(`\\b${single}\\b`).test(text)) names.add(single);
  return names;
}

/** A placeholder of several words (`<the name they use>`): translated, so not compared. */
const PLACEHOLDER = /<[a-z]+(?: [a-z]+)+>/i;

/** Inline code spans (which may wrap onto the next line), whitespace collapsed. */
const spans = (prose: string) => [...prose.matchAll(/`([^`]+)`/g)].map((m) => m[1]!.replace(/\s+/g, " "));

const inlineCode = (prose: string) => new Set(spans(prose).filter((code) => !PLACEHOLDER.test(code)));

describe("README.ja.md keeps in step with README.md", () => {
  const en = parse("README.md");
  const ja = parse("README.ja.md");

  it("has the same sections: heading levels, count and order", () => {
    expect(ja.headings).toEqual(en.headings);
    expect(en.headings.length).toBeGreaterThan(20);
  });

  it("has the same code blocks, byte for byte, in the same order", () => {
    expect(ja.blocks.length).toBe(en.blocks.length);
    for (const [i, block] of en.blocks.entries()) expect(ja.blocks[i], `code block ${i + 1}`).toBe(block);
  });

  it("mentions the same variables", () => {
    expect([...variables(ja.prose)].sort()).toEqual([...variables(en.prose)].sort());
  });

  it("carries every command, file name and message of README.md's inline code", () => {
    const missing = [...inlineCode(en.prose)].filter((code) => !inlineCode(ja.prose).has(code));
    expect(missing).toEqual([]);
  });

  it("leaves no English placeholder untranslated, and links the two", () => {
    expect(spans(ja.prose).filter((code) => PLACEHOLDER.test(code))).toEqual([]);
    expect(en.prose).toContain("(README.ja.md)");
    expect(ja.prose).toContain("(README.md)");
  });
});
