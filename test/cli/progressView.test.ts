import { describe, expect, it } from "vitest";
import { ProgressView } from "../../src/cli/progressView.js";

const terminal = () => {
  const written: string[] = [];
  return { written, out: { isTTY: true, columns: 70, write: (text: string) => written.push(text) } };
};

describe("pnpm index's progress on a terminal", () => {
  it("redraws one bar in place, prints notes above it, and clears it at the end", () => {
    const { written, out } = terminal();
    const view = new ProgressView(out);
    view.event({ type: "progress", done: 0, total: 4, chunks: 0, current: "notes/a.md" });
    view.event({ type: "note", message: "skipped notes/c.bin: not text (binary)" });
    view.event({ type: "file", shown: "notes/a.md", status: "indexed", chunks: 3 });
    view.event({ type: "progress", done: 4, total: 4, chunks: 3, current: "" });
    view.finish();
    expect(written).toEqual([
      "\r\x1b[2K[░░░░░░░░░░░░░░░░░░░░░░░░] 0/4 · 0 chunks · notes/a.md",
      "\r\x1b[2K",
      "skipped notes/c.bin: not text (binary)\n",
      "\r\x1b[2K[████████████████████████] 4/4 · 3 chunks",
      "\r\x1b[2K",
    ]);
  });

  it("keeps a long file name to the terminal's width, from its end", () => {
    const { written, out } = terminal();
    new ProgressView(out).event({ type: "progress", done: 1, total: 2, chunks: 5, current: `notes/${"deep/".repeat(20)}file.md` });
    expect(written[0]!.length).toBeLessThanOrEqual(4 + 70);
    expect(written[0]).toMatch(/ · …[a-z/]*file\.md$/);
  });
});
