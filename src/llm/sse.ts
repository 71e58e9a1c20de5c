/**
 * Splits a server-sent event stream into the data of each event, as bytes arrive: `data:` lines
 * joined with "\n", any line ending (LF or CRLF), comments and other fields skipped. Synchronous,
 * so a streamed answer pays no extra promise per event.
 */
export class SseDecoder {
  private readonly decoder = new TextDecoder();
  private buffered = "";
  private data: string[] = [];

  /** The data of every event these bytes complete. */
  push(bytes: Uint8Array): string[] {
    this.buffered += this.decoder.decode(bytes, { stream: true });
    const events: string[] = [];
    let start = 0;
    let end: number;
    while ((end = this.buffered.indexOf("\n", start)) !== -1) {
      this.line(this.buffered.charCodeAt(end - 1) === 13 ? this.buffered.slice(start, end - 1) : this.buffered.slice(start, end), events);
      start = end + 1;
    }
    this.buffered = this.buffered.slice(start);
    return events;
  }

  /** At the end of the stream: a last event that lacked its blank line. */
  end(): string[] {
    const events: string[] = [];
    const last = (this.buffered + this.decoder.decode()).replace(/\r$/, "");
    this.buffered = "";
    if (last) this.line(last, events);
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
