/** No line of a streamed answer is near this long; a longer one is a broken or hostile upstream. */
export const MAX_LINE_CHARS = 1_048_576;

export class LineTooLongError extends Error {
  constructor(readonly limit: number) {
    super(`the upstream sent a line longer than ${limit} characters`);
    this.name = "LineTooLongError";
  }
}

/**
 * Splits a byte stream into lines (LF; a CR before it is kept) as it arrives, looking at each byte
 * once however the line is cut into chunks, and refusing a line longer than `maxChars` before it
 * is held in memory whole.
 */
export class LineSplitter {
  private readonly decoder = new TextDecoder();
  private parts: string[] = [];
  private partChars = 0;

  constructor(private readonly maxChars = MAX_LINE_CHARS) {}

  /** The lines these bytes complete. */
  push(bytes: Uint8Array): string[] {
    const text = this.decoder.decode(bytes, { stream: true });
    const lines: string[] = [];
    let start = 0;
    for (let end = text.indexOf("\n"); end !== -1; end = text.indexOf("\n", start)) {
      lines.push(this.take(text.slice(start, end)));
      start = end + 1;
    }
    if (start < text.length) this.hold(text.slice(start));
    return lines;
  }

  /** The last line, if the stream did not end with a line break. */
  end(): string[] {
    const rest = this.decoder.decode();
    if (rest) this.hold(rest);
    return this.partChars > 0 ? [this.take("")] : [];
  }

  private hold(piece: string): void {
    this.partChars += piece.length;
    if (this.partChars > this.maxChars) throw new LineTooLongError(this.maxChars);
    this.parts.push(piece);
  }

  private take(piece: string): string {
    if (this.partChars + piece.length > this.maxChars) throw new LineTooLongError(this.maxChars);
    const line = this.parts.length === 0 ? piece : this.parts.join("") + piece;
    this.parts = [];
    this.partChars = 0;
    return line;
  }
}
