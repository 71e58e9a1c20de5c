/**
 * Yields the data of each server-sent event as it arrives: `data:` lines joined with "\n", any
 * line ending (LF or CRLF), comments and other fields skipped. A last event without its blank
 * line is still yielded.
 */
export async function* sseData(body: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffered = "";
  let data: string[] = [];
  for await (const bytes of body) {
    buffered += decoder.decode(bytes, { stream: true });
    let start = 0;
    let end: number;
    while ((end = buffered.indexOf("\n", start)) !== -1) {
      const line = buffered.charCodeAt(end - 1) === 13 ? buffered.slice(start, end - 1) : buffered.slice(start, end);
      start = end + 1;
      if (line === "") {
        if (data.length > 0) yield data.join("\n");
        data = [];
      } else if (line.startsWith("data:")) {
        data.push(line.slice(line.charCodeAt(5) === 32 ? 6 : 5));
      }
    }
    buffered = buffered.slice(start);
  }
  const last = (buffered + decoder.decode()).replace(/\r$/, "");
  if (last.startsWith("data:")) data.push(last.slice(last.charCodeAt(5) === 32 ? 6 : 5));
  if (data.length > 0) yield data.join("\n");
}
