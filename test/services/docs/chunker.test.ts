import { describe, expect, it } from "vitest";
import { chunkDocument, chunkText, formatOf, htmlToText, MAX_CHUNKS_PER_DOCUMENT, splitParts, tooManyChunks } from "../../../src/services/docs/chunker.js";

describe("splitting a document at its headings", () => {
  it("takes the first level-1 heading as the title and files every part under its heading path", () => {
    const text = "# Handbook\n\nIntro.\n\n## Install\n\nRun it.\n\n### On a Mac\n\nUse brew.\n\n## Use\n\nCall it.";
    expect(splitParts(text, "markdown")).toEqual({
      title: "Handbook",
      parts: [
        { heading: "", body: "Intro." },
        { heading: "Install", body: "Run it." },
        { heading: "Install › On a Mac", body: "Use brew." },
        { heading: "Use", body: "Call it." },
      ],
    });
  });

  it("does not take a # line inside a code fence for a heading, and keeps the fence whole", () => {
    const text = "## Script\n\n```sh\n# not a heading\necho hi\n```\n\nAfter.";
    const { parts } = splitParts(text, "markdown");
    expect(parts).toEqual([{ heading: "Script", body: "```sh\n# not a heading\necho hi\n```\n\nAfter." }]);
  });

  it("reads underlined headings, closing hashes, front matter titles, AsciiDoc, Org and HTML", () => {
    expect(splitParts("Title\n=====\n\nA.\n\nPart\n----\n\nB.", "markdown")).toEqual({
      title: "Title",
      parts: [
        { heading: "", body: "A." },
        { heading: "Part", body: "B." },
      ],
    });
    expect(splitParts("## Closing ##\n\nx", "markdown").parts[0]!.heading).toBe("Closing");
    expect(splitParts("## C# tips\n\nx", "markdown").parts[0]!.heading).toBe("C# tips");
    expect(splitParts('---\ntitle: "From front matter"\ntags: [a]\n---\n# Heading\n\nx', "markdown").title).toBe("From front matter");
    expect(splitParts("= Guide\n\n== Setup\n\nDo it.", "asciidoc")).toEqual({ title: "Guide", parts: [{ heading: "Setup", body: "Do it." }] });
    expect(splitParts("#+TITLE: Notes\n* Ideas\nOne.\n** Small\nTwo.", "org")).toEqual({
      title: "Notes",
      parts: [
        { heading: "", body: "#+TITLE: Notes" },
        { heading: "Ideas", body: "One." },
        { heading: "Ideas › Small", body: "Two." },
      ],
    });
    expect(splitParts("<html><script>var x = '<h1>no</h1>';</script><h1>Page</h1><p>Fish &amp; chips</p><h2>More</h2>text</html>", "html")).toEqual({
      title: "Page",
      parts: [
        { heading: "", body: "Fish & chips" },
        { heading: "More", body: "text" },
      ],
    });
  });

  it("knows formats by extension; anything else is plain text, split only into chunks", () => {
    expect([
      formatOf("a.md"),
      formatOf("b.MDX"),
      formatOf("c.adoc"),
      formatOf("d.org"),
      formatOf("e.rst"),
      formatOf("f.html"),
      formatOf("g.txt"),
      formatOf("Makefile"),
    ]).toEqual(["markdown", "markdown", "asciidoc", "org", "rst", "html", "plain", "plain"]);
    expect(splitParts("# not a heading in a .txt\nline", "plain").parts).toEqual([{ heading: "", body: "# not a heading in a .txt\nline" }]);
  });
});

describe("chunks of a bounded size", () => {
  const sentences = Array.from({ length: 60 }, (_, i) => `Sentence number ${i} says something about topic ${i % 7}.`).join(" ");

  it("never passes maxChars, cuts at sentence ends, and repeats the end of each chunk at the start of the next", () => {
    const chunks = chunkText(sentences, { maxChars: 300, overlap: 60 });
    expect(chunks.length).toBeGreaterThan(5);
    for (const chunk of chunks) expect(chunk.length).toBeLessThanOrEqual(300);
    for (const chunk of chunks.slice(0, -1)) expect(chunk.endsWith(".")).toBe(true);
    for (let i = 1; i < chunks.length; i++) {
      // It starts with the previous chunk's last sentence (at most 60 characters).
      const repeated = [...Array(61).keys()].filter((k) => k >= 20 && chunks[i]!.startsWith(chunks[i - 1]!.slice(-k)));
      expect(repeated.length, `chunk ${i}`).toBeGreaterThan(0);
      expect(chunks[i]).toMatch(/^Sentence number \d+/);
    }
    // Every sentence is in some chunk, whole.
    for (const sentence of sentences.split(/(?<=\.) /)) expect(chunks.some((chunk) => chunk.includes(sentence))).toBe(true);
  });

  it("cuts text without any space at maxChars", () => {
    const chunks = chunkText("x".repeat(1_000), { maxChars: 300, overlap: 0 });
    expect(chunks.map((c) => c.length)).toEqual([300, 300, 300, 100]);
  });

  it("gives a document its title, or the file name, and heading paths on every chunk", () => {
    const doc = chunkDocument(`## Long\n\n${sentences}`, "markdown", "notes.md", { limits: { maxChars: 400, overlap: 50 } });
    expect(doc.title).toBe("notes.md");
    expect(new Set(doc.chunks.map((c) => c.heading))).toEqual(new Set(["Long"]));
    expect(chunkDocument("", "markdown", "empty.md").chunks).toEqual([]);
    // A title given (add_document) keeps a leading level-1 heading as a heading.
    expect(chunkDocument("# Sauce\n\nSimmer.", "markdown", "Recipe", { titled: true })).toEqual({
      title: "Recipe",
      chunks: [{ heading: "Sauce", body: "Simmer." }],
    });
  });

  it("stays linear on hostile input: long runs of spaces after a heading marker, unclosed tags and scripts", () => {
    const spaces = `# a${" ".repeat(200_000)}x\nbody`;
    expect(splitParts(spaces, "markdown").title).toBe(`a${" ".repeat(198)}…`);
    expect(htmlToText("<script>".repeat(50_000)).length).toBe(0);
    expect(htmlToText(`text ${"<".repeat(200_000)}`)).toBe("text ");
    expect(chunkText(`${" ".repeat(100_000)}word`, { maxChars: 1_200, overlap: 200 })).toEqual(["word"]);
  });
});

describe("bounds a caller's text cannot lift", () => {
  it("cuts long headings and heading paths, so a long heading under many short sections stays small", () => {
    const heading = "word ".repeat(20_000);
    const text = `## ${heading}\n${"### a\nx\n".repeat(3_000)}`;
    const { chunks } = chunkDocument(text, "markdown", "t");
    expect(chunks).toHaveLength(3_000);
    expect(Math.max(...chunks.map((c) => c.heading.length))).toBeLessThanOrEqual(500);
    expect(chunks[0]!.heading).toMatch(/^word word .*… › a$/);
    const deep = splitParts(`${Array.from({ length: 6 }, (_, i) => `${"#".repeat(i + 1)} ${"h".repeat(300)}`).join("\n")}\nbody`, "markdown", true);
    expect(deep.parts[0]!.heading.length).toBe(500);
    expect(deep.parts[0]!.heading.startsWith("…")).toBe(true);
  });

  it("says when a document has more passages than one may have", () => {
    expect(tooManyChunks(MAX_CHUNKS_PER_DOCUMENT)).toBeUndefined();
    expect(tooManyChunks(MAX_CHUNKS_PER_DOCUMENT + 1)).toBe(
      `it splits into ${MAX_CHUNKS_PER_DOCUMENT + 1} passages (many very short sections), more than the ${MAX_CHUNKS_PER_DOCUMENT} one document may have; merge short sections or split it into several documents`,
    );
  });
});
