import { LineSplitter } from "./lines.js";

/** Yields each JSON line of a newline-delimited JSON body as it arrives. */
export async function* ndjsonLines(body: AsyncIterable<Uint8Array>): AsyncGenerator<unknown> {
  const lines = new LineSplitter();
  for await (const chunk of body) {
    for (const line of lines.push(chunk)) if (line.trim()) yield JSON.parse(line);
  }
  for (const line of lines.end()) if (line.trim()) yield JSON.parse(line);
}

/**
 * After the line that ends an answer: reads what is left of the body (normally nothing) in the
 * background, so that the connection goes back to the keep-alive pool instead of being destroyed
 * (leaving the loop early costs a new connection per call). A body that does not end within
 * `graceMs` is dropped.
 */
export function releaseBody(lines: AsyncIterator<unknown>, body: { destroy(): unknown }, graceMs = 2_000): void {
  const timer = setTimeout(() => body.destroy(), graceMs);
  timer.unref();
  void (async () => {
    try {
      while (!(await lines.next()).done);
    } catch {
      // a body cut off after its last line: nothing is lost
    } finally {
      clearTimeout(timer);
    }
  })();
}
