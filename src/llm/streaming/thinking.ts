const OPEN = "<think>";
const CLOSE = "</think>";

/**
 * Separates a reasoning trace written inline as `<think>...</think>` from the answer. Works on the
 * whole text, so tags split across stream chunks do not matter. Some templates open the tag in the
 * prompt, so the output holds only `</think>`: everything before it is then the trace.
 */
export function splitThinking(text: string): { answer: string; thinking: string } {
  const open = /^\s*<think>/.exec(text);
  const closeAt = text.indexOf(CLOSE);
  if (closeAt === -1) {
    return open ? { answer: "", thinking: text.slice(open[0].length).trim() } : { answer: text, thinking: "" };
  }
  const start = open ? open[0].length : 0;
  return { thinking: text.slice(start, closeAt).trim(), answer: text.slice(closeAt + CLOSE.length).trimStart() };
}

/** The length of the longest end of `text` that is a start of `tag` (a tag that may still be arriving). */
function partialTagAtEnd(text: string, tag: string): number {
  for (let length = Math.min(tag.length - 1, text.length); length > 0; length--) {
    if (text.endsWith(tag.slice(0, length))) return length;
  }
  return 0;
}

/**
 * The same separation while the answer streams in, so that what is shown as it arrives (progress)
 * never carries reasoning: text that opens with `<think>` is reasoning until `</think>`, tags split
 * across pieces included. Each piece is looked at once.
 */
export class InlineThinking {
  private state: "start" | "thinking" | "afterThinking" | "answer" = "start";
  private held = "";

  /** The answer and reasoning text that this piece completes. */
  push(text: string): { answer: string; thinking: string } {
    this.held += text;
    if (this.state === "start") {
      this.held = this.held.trimStart();
      if (this.held.startsWith(OPEN)) {
        this.state = "thinking";
        this.held = this.held.slice(OPEN.length);
      } else if (OPEN.startsWith(this.held)) {
        return { answer: "", thinking: "" };
      } else {
        this.state = "answer";
      }
    }
    if (this.state === "thinking") return this.thinkingPiece();
    if (this.state === "afterThinking") {
      this.held = this.held.trimStart();
      if (this.held === "") return { answer: "", thinking: "" };
      this.state = "answer";
    }
    const answer = this.held;
    this.held = "";
    return { answer, thinking: "" };
  }

  /** Whatever was held back when the stream ends. */
  end(): { answer: string; thinking: string } {
    const held = this.held;
    this.held = "";
    return this.state === "thinking" ? { answer: "", thinking: held } : { answer: held, thinking: "" };
  }

  private thinkingPiece(): { answer: string; thinking: string } {
    const closeAt = this.held.indexOf(CLOSE);
    if (closeAt === -1) {
      const keep = partialTagAtEnd(this.held, CLOSE);
      const thinking = this.held.slice(0, this.held.length - keep);
      this.held = this.held.slice(this.held.length - keep);
      return { answer: "", thinking };
    }
    const thinking = this.held.slice(0, closeAt);
    this.held = this.held.slice(closeAt + CLOSE.length).trimStart();
    this.state = "afterThinking";
    if (this.held === "") return { answer: "", thinking };
    this.state = "answer";
    const answer = this.held;
    this.held = "";
    return { answer, thinking };
  }
}
