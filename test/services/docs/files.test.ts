import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { findFiles, readText } from "../../../src/services/docs/files.js";

function tree(): string {
  const root = join(mkdtempSync(join(tmpdir(), "mcp-lab-files-")), "notes");
  mkdirSync(join(root, "work", "deep"), { recursive: true });
  mkdirSync(join(root, ".git"));
  mkdirSync(join(root, "node_modules"));
  writeFileSync(join(root, "a.md"), "# A\ntext");
  writeFileSync(join(root, "work", "b.txt"), "b");
  writeFileSync(join(root, "work", "deep", "c.md"), "c");
  writeFileSync(join(root, ".hidden.md"), "h");
  writeFileSync(join(root, ".git", "HEAD"), "ref");
  writeFileSync(join(root, "node_modules", "x.md"), "x");
  symlinkSync(root, join(root, "work", "loop"));
  return root;
}

describe("finding the files to index", () => {
  it("walks a folder in a stable order, files each under its folder's section, skips hidden and dependency folders, and follows no folder links", async () => {
    const root = tree();
    const found = await findFiles([root], { maxFiles: 100 });
    expect(found.files.map((f) => [f.shown, f.section])).toEqual([
      ["notes/a.md", "notes"],
      ["notes/work/b.txt", "notes/work"],
      ["notes/work/deep/c.md", "notes/work/deep"],
    ]);
    expect(found.roots).toEqual([{ path: root, shown: root }]);
    expect(found.files.every((f) => f.path.startsWith(root))).toBe(true);
  });

  it("puts every file in the named section, takes single files, and refuses a path that is not there or too many files", async () => {
    const root = tree();
    const found = await findFiles([join(root, "a.md"), join(root, "work")], { section: "manual", maxFiles: 100 });
    expect(found.files.map((f) => f.section)).toEqual(["manual", "manual", "manual"]);
    await expect(findFiles([join(root, "missing")], { maxFiles: 100 })).rejects.toThrow("no such file or folder");
    await expect(findFiles([root], { maxFiles: 2 })).rejects.toThrow("More than 2 files");
  });
});

describe("reading a file as text", () => {
  const dir = mkdtempSync(join(tmpdir(), "mcp-lab-read-"));
  const file = (name: string, content: string | Buffer) => {
    writeFileSync(join(dir, name), content);
    return join(dir, name);
  };

  it("reads UTF-8 text, Japanese included", async () => {
    expect(await readText(file("ja.md", "# 日本語\n本文"), 1_000)).toEqual({ text: "# 日本語\n本文" });
  });

  it("skips binaries, non-UTF-8 text and files over the cap, each with a reason that says what to do", async () => {
    expect(await readText(file("logo.png", Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x01])), 1_000)).toEqual({ skipped: "not text (binary)" });
    expect(await readText(file("paper.pdf", Buffer.from([0x25, 0x50, 0x44, 0x46, 0x00, 0xff])), 1_000)).toEqual({
      skipped: "not text (binary); PDF: convert it to text first, e.g. `pdftotext file.pdf`",
    });
    expect(await readText(file("latin1.txt", Buffer.from([0x63, 0x61, 0x66, 0xe9])), 1_000)).toEqual({ skipped: "not UTF-8 text (save it as UTF-8)" });
    expect(await readText(file("big.md", "x".repeat(1_001)), 1_000)).toEqual({ skipped: "larger than 1000 bytes (DOCS_MAX_DOCUMENT_BYTES)" });
  });
});
