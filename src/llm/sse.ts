import { LineSplitter } from "./lines.js";

/**
 * Splits a server-sent event stream into the data of each event, as bytes arrive: `data:` lines
 * joined with "\n", any line ending (LF or CRLF), comments and other fields skipped. Synchronous,
 * so a streamed answer pays no extra promise per event; linear, and with a bounded line length.
 */
export class SseDecoder {
  private readonly lines = new LineSplitter();
  private data: string[] = [];

  /** The data of every event these bytes complete. */
  push(bytes: Uint8Array): string[] {
    const events: string[] = [];
    for (const line of this.lines.push(bytes)) this.line(line.endsWith("\r") ? line.slice(0, -1) : line, events);
    return events;
  }

  /** At the end of the stream: a last event that lacked its blank line. */
  end(): string[] {
    const events: string[] = [];
    for (const line of this.lines.end()) this.line(line.replace(/\r$/, ""), events);
    this.line("", events);
    return events;
  }

  private line(line: string, events: string[]): void {
    if (line === "") {
      if (this.data.length > 0) events.push(this.data.join("\n"));
      this.data = [];
    } else if (line.startsWith("data:")) {
      this.data.push(line.slice(line.charCodeAt(5) === 32 ? 6 : 5));
    }
  }
}
