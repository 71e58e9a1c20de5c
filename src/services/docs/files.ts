import { open, readdir, stat } from "node:fs/promises";
import { basename, dirname, extname, join, relative, resolve, sep } from "node:path";

export type FoundFile = {
  /** Absolute: the document's source, and how a later run recognises it. */
  path: string;
  /** How it is shown: relative to the folder that was named. */
  shown: string;
  section: string;
};

/** A folder that was named: with --prune, its documents whose files are gone are removed. */
export type Root = { path: string; shown: string };

export type Found = { files: FoundFile[]; roots: Root[]; notes: string[] };

/** Folders never walked into: version control, dependencies, caches. */
const SKIPPED_DIRS = new Set(["node_modules", "__pycache__", "venv"]);

const BINARY_HINTS: Record<string, string> = {
  ".pdf": "PDF: convert it to text first, e.g. `pdftotext file.pdf`",
  ".docx": "Word: save it as plain text or Markdown first",
  ".doc": "Word: save it as plain text or Markdown first",
  ".odt": "OpenDocument: save it as plain text or Markdown first",
  ".epub": "EPUB: convert it to text first",
};

/**
 * The files under the named paths, in a stable order. A folder's files belong to the section named
 * after the folder (its subfolders: `notes/work`), unless `section` names one for all. Hidden
 * entries and dependency folders are skipped, symbolic links to folders are not followed (no
 * loops), and at most `maxFiles` are taken.
 */
export async function findFiles(paths: string[], options: { section?: string; maxFiles: number }): Promise<Found> {
  const found: Found = { files: [], roots: [], notes: [] };
  const seen = new Set<string>();
  const add = (file: FoundFile) => {
    if (seen.has(file.path)) return;
    if (found.files.length >= options.maxFiles)
      throw new Error(`More than ${options.maxFiles} files under ${paths.join(", ")}: name fewer or smaller folders.`);
    seen.add(file.path);
    found.files.push(file);
  };
  for (const given of paths) {
    const path = resolve(given);
    const info = await stat(path).catch(() => undefined);
    if (!info) throw new Error(`${given}: no such file or folder.`);
    if (info.isFile()) {
      add({ path, shown: given, section: options.section ?? (basename(dirname(path)) || "documents") });
    } else if (info.isDirectory()) {
      found.roots.push({ path, shown: given });
      await walk(path, path, options.section, add);
    } else found.notes.push(`skipped ${given}: not a file or a folder`);
  }
  return found;
}

async function walk(root: string, dir: string, section: string | undefined, add: (file: FoundFile) => void): Promise<void> {
  const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    if (entry.name.startsWith(".")) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!SKIPPED_DIRS.has(entry.name)) await walk(root, path, section, add);
    } else if (entry.isFile() || (entry.isSymbolicLink() && (await stat(path).catch(() => undefined))?.isFile())) {
      const folder = relative(root, dir).split(sep).join("/");
      add({ path, shown: relative(dirname(root), path).split(sep).join("/"), section: section ?? (folder ? `${basename(root)}/${folder}` : basename(root)) });
    }
  }
}

export type ReadResult = { text: string } | { skipped: string };

/**
 * A file's text, or why it is skipped: larger than `maxBytes`, binary (a NUL byte), or not UTF-8.
 * Never reads more than `maxBytes` + 1 bytes.
 */
export async function readText(path: string, maxBytes: number): Promise<ReadResult> {
  const handle = await open(path, "r");
  try {
    const { size } = await handle.stat();
    if (size > maxBytes) return { skipped: `larger than ${maxBytes} bytes (DOCS_MAX_DOCUMENT_BYTES)` };
    const buffer = Buffer.alloc(Math.min(size, maxBytes) + 1);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    if (bytesRead > maxBytes) return { skipped: `larger than ${maxBytes} bytes (DOCS_MAX_DOCUMENT_BYTES)` };
    const bytes = buffer.subarray(0, bytesRead);
    const hint = BINARY_HINTS[extname(path).toLowerCase()];
    // Anywhere in the file, not only at its start: PostgreSQL cannot store a NUL, and one would stop the whole run.
    if (bytes.includes(0)) return { skipped: `not text (binary)${hint ? `; ${hint}` : ""}` };
    try {
      return { text: new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes) };
    } catch {
      return { skipped: `not UTF-8 text${hint ? `; ${hint}` : " (save it as UTF-8)"}` };
    }
  } finally {
    await handle.close();
  }
}
