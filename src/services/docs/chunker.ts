/**
 * Splitting a document for search: at its headings into parts (each with its heading path, e.g.
 * "Deployment patterns › 3. Fly.io"), then each part into chunks of at most `maxChars`, cut at
 * paragraph, then sentence, then word boundaries, each chunk starting with the last `overlap`
 * characters of the one before, so a sentence cut in two is still found whole in one of them.
 * Every scan is linear in the text.
 */

export type Format = "markdown" | "asciidoc" | "org" | "rst" | "html" | "plain";

export type Chunk = { heading: string; body: string };

export type ChunkLimits = { maxChars: number; overlap: number };

/** Part of every content hash: a change here makes `pnpm index` split and embed every file again. */
export const CHUNKER_VERSION = 1;

export const DEFAULT_LIMITS: ChunkLimits = { maxChars: 1_200, overlap: 200 };

/**
 * Headings are cut to this many characters, and a heading path to `MAX_PATH` (its end, the most
 * specific part): every chunk of a part carries the path, so an unbounded heading would be stored,
 * embedded and shown once per chunk.
 */
const MAX_HEADING = 200;
const MAX_PATH = 500;

/** The most chunks one document may have (about 24 MB of vectors in memory while it is embedded). */
export const MAX_CHUNKS_PER_DOCUMENT = 4_000;

/** Why a document with `count` chunks is refused, or undefined when it is not. */
export function tooManyChunks(count: number): string | undefined {
  return count > MAX_CHUNKS_PER_DOCUMENT
    ? `it splits into ${count} passages (many very short sections), more than the ${MAX_CHUNKS_PER_DOCUMENT} one document may have; merge short sections or split it into several documents`
    : undefined;
}

const cut = (text: string, max: number, keep: "start" | "end" = "start") =>
  text.length <= max ? text : keep === "start" ? `${text.slice(0, max - 1)}…` : `…${text.slice(text.length - max + 1)}`;

const EXTENSIONS: Record<string, Format> = {
  md: "markdown",
  markdown: "markdown",
  mdx: "markdown",
  mdown: "markdown",
  mkd: "markdown",
  adoc: "asciidoc",
  asciidoc: "asciidoc",
  org: "org",
  rst: "rst",
  html: "html",
  htm: "html",
};

export function formatOf(path: string): Format {
  const extension = /\.([A-Za-z0-9]+)$/.exec(path)?.[1]?.toLowerCase() ?? "";
  return EXTENSIONS[extension] ?? "plain";
}

type Heading = { level: number; text: string };

/** A markdown heading's text without its optional closing hashes ("## Title ##"), by a linear scan. */
function withoutClosingHashes(text: string): string {
  const trimmed = text.trimEnd();
  let end = trimmed.length;
  while (end > 0 && trimmed[end - 1] === "#") end--;
  return end < trimmed.length && (end === 0 || /\s/.test(trimmed[end - 1]!)) ? trimmed.slice(0, end).trimEnd() || trimmed : trimmed;
}

/** The heading a line opens, in the document's own syntax (markdown's underlined forms are handled by the caller). */
function headingOf(line: string, format: Format): Heading | undefined {
  const pattern =
    format === "asciidoc"
      ? /^(={1,6})\s+(\S.*)$/
      : format === "org"
        ? /^(\*{1,6})\s+(\S.*)$/
        : format === "markdown" || format === "html"
          ? /^(#{1,6})\s+(\S.*)$/
          : undefined;
  const match = pattern?.exec(line);
  if (!match) return undefined;
  const text = format === "asciidoc" || format === "org" ? match[2]!.trim() : withoutClosingHashes(match[2]!);
  return { level: match[1]!.length, text };
}

/** Markdown/reST underlines: "===" makes the line above a level-1 heading, "---" (and reST's others) level 2. */
function underlineLevel(line: string, above: string | undefined, format: Format): number | undefined {
  if (!above?.trim() || (format !== "markdown" && format !== "rst")) return undefined;
  const match = /^([=\-~^"'`#*+:.])\1{2,}\s*$/.exec(line);
  if (!match) return undefined;
  return match[1] === "=" ? 1 : 2;
}

const ENTITIES: Record<string, string> = { "&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": '"', "&#39;": "'", "&apos;": "'", "&nbsp;": " " };

/**
 * Just enough HTML to text, in one pass: scripts and styles go, headings become markdown headings,
 * block tags become paragraph breaks, other tags go, common entities are decoded. An unclosed tag
 * or script ends the text there (no scan starts over).
 */
export function htmlToText(html: string): string {
  const out: string[] = [];
  let at = 0;
  while (at < html.length) {
    const open = html.indexOf("<", at);
    if (open < 0) {
      out.push(html.slice(at));
      break;
    }
    out.push(html.slice(at, open));
    const close = html.indexOf(">", open);
    if (close < 0) break;
    const tag = /^<\/?([a-zA-Z][a-zA-Z0-9]*)/.exec(html.slice(open, Math.min(close, open + 12)))?.[1]?.toLowerCase() ?? "";
    at = close + 1;
    if ((tag === "script" || tag === "style") && html[open + 1] !== "/") {
      const closer = new RegExp(`</${tag}`, "gi");
      closer.lastIndex = at;
      const end = closer.exec(html)?.index;
      if (end === undefined) break;
      at = html.indexOf(">", end) + 1 || html.length;
    } else if (/^h[1-6]$/.test(tag) && html[open + 1] !== "/") out.push(`\n\n${"#".repeat(Number(tag[1]))} `);
    else if (/^(h[1-6]|p|div|br|li|tr|section|article|pre)$/.test(tag)) out.push("\n\n");
  }
  return out.join("").replace(/&(amp|lt|gt|quot|#39|apos|nbsp);/g, (entity) => ENTITIES[entity]!);
}

export type Parsed = { title: string | undefined; parts: Chunk[] };

/** The document's title (its first level-1 heading, a `title:` in front matter, `#+TITLE:`) and its parts under their heading paths. */
export function splitParts(source: string, format: Format, titled = false): Parsed {
  const text = format === "html" ? htmlToText(source) : source;
  const lines = text.split(/\r?\n/);
  // A document whose title is given keeps every heading as a heading.
  let title: string | undefined = titled ? "" : undefined;
  let start = 0;
  if (lines[0]?.trim() === "---") {
    const end = lines.indexOf("---", 1);
    if (end > 0) {
      const line = lines.slice(1, end).find((candidate) => candidate.startsWith("title:"));
      if (!titled)
        title =
          line
            ?.slice(6)
            .trim()
            .replace(/^["']|["']$/g, "") || undefined;
      start = end + 1;
    }
  }
  const parts: Chunk[] = [];
  const path: Heading[] = [];
  let pathText = "";
  let body: string[] = [];
  let fence: string | undefined;
  const flush = () => {
    const joined = body.join("\n").trim();
    if (joined) parts.push({ heading: pathText, body: joined });
    body = [];
  };
  const open = (found: Heading) => {
    flush();
    const heading = { level: found.level, text: cut(found.text, MAX_HEADING) };
    if (title === undefined && heading.level === 1 && parts.length === 0) {
      title = heading.text;
      return;
    }
    while (path.length > 0 && path.at(-1)!.level >= heading.level) path.pop();
    path.push(heading);
    pathText = cut(path.map((h) => h.text).join(" › "), MAX_PATH, "end");
  };
  for (let i = start; i < lines.length; i++) {
    const line = lines[i]!;
    const marker = /^\s*(```|~~~)/.exec(line)?.[1];
    if (marker && (fence === undefined || fence === marker)) fence = fence === undefined ? marker : undefined;
    if (fence !== undefined || marker) {
      body.push(line);
      continue;
    }
    if (format === "org" && title === undefined) title = /^#\+TITLE:\s*(.+)$/i.exec(line)?.[1]?.trim();
    const heading = headingOf(line, format);
    const underlined = heading ? undefined : underlineLevel(line, body.at(-1), format);
    if (heading) open(heading);
    else if (underlined !== undefined) open({ level: underlined, text: body.pop()!.trim() });
    else body.push(line);
  }
  flush();
  return { title, parts };
}

/** Where to cut `text` at or before `limit`: a paragraph break, else a sentence end, else a space, else `limit`. */
function cutPoint(text: string, limit: number): number {
  const floor = Math.floor(limit / 2);
  for (const pattern of ["\n\n", ". ", "。", "\n", " "]) {
    const at = text.lastIndexOf(pattern, limit - pattern.length);
    if (at >= floor) return at + pattern.length;
  }
  return limit;
}

/** The last `overlap` characters of a chunk, from a sentence start if there is one, else from a word start. */
function tailOf(text: string, overlap: number): string {
  if (overlap <= 0 || text.length <= overlap) return "";
  const tail = text.slice(-overlap);
  const sentence = tail.indexOf(". ");
  if (sentence >= 0 && sentence < (tail.length * 2) / 3) return tail.slice(sentence + 2).trim();
  const space = tail.search(/\s/);
  return (space >= 0 && space < tail.length / 2 ? tail.slice(space) : tail).trim();
}

/** Splits one part's text into chunks of at most `maxChars`, overlapping by about `overlap`. */
export function chunkText(text: string, limits: ChunkLimits = DEFAULT_LIMITS): string[] {
  const chunks: string[] = [];
  let rest = text.trim();
  let carry = "";
  while (rest.length > 0) {
    const room = Math.max(limits.maxChars - (carry ? carry.length + 1 : 0), Math.ceil(limits.maxChars / 2));
    const cut = rest.length <= room ? rest.length : cutPoint(rest, room);
    const piece = rest.slice(0, cut).trim();
    rest = rest.slice(cut).trimStart();
    if (!piece) continue;
    const chunk = carry ? `${carry} ${piece}` : piece;
    chunks.push(chunk);
    carry = rest.length > 0 ? tailOf(piece, limits.overlap) : "";
  }
  return chunks;
}

/**
 * A whole document, ready to embed: its title (its own, or `title` when `titled` or it has none)
 * and its chunks.
 */
export function chunkDocument(
  source: string,
  format: Format,
  title: string,
  options: { titled?: boolean; limits?: ChunkLimits } = {},
): { title: string; chunks: Chunk[] } {
  const parsed = splitParts(source, format, options.titled);
  const chunks = parsed.parts.flatMap((part) => chunkText(part.body, options.limits ?? DEFAULT_LIMITS).map((body) => ({ heading: part.heading, body })));
  return { title: (parsed.title || title).slice(0, 200), chunks };
}
