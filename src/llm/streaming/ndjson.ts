import { LineSplitter } from "./lines.js";

/** Yields each JSON line of a newline-delimited JSON body as it arrives. */
export async function* ndjsonLines(body: AsyncIterable<Uint8Array>): AsyncGenerator<unknown> {
  const lines = new LineSplitter();
  for await (const chunk of body) {
    for (const line of lines.push(chunk)) if (line.trim()) yield JSON.parse(line);
  }
  for (const line of lines.end()) if (line.trim()) yield JSON.parse(line);
}
