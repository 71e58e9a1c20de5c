import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const ROOT = new URL("..", import.meta.url).pathname;

/**
 * Puts `text` between `<!-- NAME:begin -->` and `<!-- NAME:end -->` in BENCHMARKS.md (appending the
 * markers at the end the first time), leaving everything else as it is: each benchmark owns its
 * section, whoever rewrites the rest.
 */
export function writeBenchSection(name: string, text: string): void {
  const [begin, end] = [`<!-- ${name}:begin -->`, `<!-- ${name}:end -->`];
  const path = join(ROOT, "BENCHMARKS.md");
  const current = readFileSync(path, "utf8");
  const block = `${begin}\n${text}\n${end}`;
  const at = current.indexOf(begin);
  const until = current.indexOf(end);
  writeFileSync(path, at >= 0 && until > at ? current.slice(0, at) + block + current.slice(until + end.length) : `${current.trimEnd()}\n\n${block}\n`);
}
