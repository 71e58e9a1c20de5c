import type { IndexEvent, IndexSummary } from "../services/docs/indexer.js";

type Out = { write(text: string): unknown; isTTY?: boolean; columns?: number };

const BAR = 24;

/**
 * What `pnpm index` shows as it goes: on a terminal, one progress bar redrawn in place (notes
 * printed above it); elsewhere (a pipe, a CI log), plain lines: the plan, each file written, each
 * note.
 */
export class ProgressView {
  private drawn = false;
  private lastDraw = 0;

  constructor(
    private readonly out: Out,
    private readonly tty = out.isTTY === true,
  ) {}

  event(event: IndexEvent): void {
    if (event.type === "plan") this.line(`${event.files} file(s) to check${event.reembed > 0 ? `, ${event.reembed} document(s) to embed again` : ""}`);
    else if (event.type === "note") this.line(event.message);
    else if (event.type === "file") {
      if (!this.tty && event.status !== "unchanged") this.line(`${event.status} ${event.shown} (${event.chunks} chunk${event.chunks === 1 ? "" : "s"})`);
    } else if (this.tty) this.draw(event);
  }

  /** Clears the bar (the summary follows on a clean line). */
  finish(): void {
    if (this.drawn) this.out.write("\r\x1b[2K");
    this.drawn = false;
  }

  private line(text: string): void {
    this.finish();
    this.out.write(`${text}\n`);
  }

  private draw(event: Extract<IndexEvent, { type: "progress" }>): void {
    const now = Date.now();
    if (now - this.lastDraw < 80 && event.done < event.total && this.drawn) return;
    this.lastDraw = now;
    const share = event.total > 0 ? Math.min(1, event.done / event.total) : 0;
    const filled = Math.round(share * BAR);
    const head = `[${"█".repeat(filled)}${"░".repeat(BAR - filled)}] ${event.done}/${event.total} · ${event.chunks} chunks`;
    const room = Math.max(10, (this.out.columns ?? 80) - head.length - 4);
    const current = event.current.length > room ? `…${event.current.slice(-(room - 1))}` : event.current;
    this.out.write(`\r\x1b[2K${head}${current ? ` · ${current}` : ""}`);
    this.drawn = true;
  }
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** The last lines: what was done, in numbers. */
export function summaryLine(summary: IndexSummary, where: string): string {
  const counts = [
    `${summary.indexed} indexed`,
    `${summary.unchanged} unchanged`,
    ...(summary.reembedded ? [`${summary.reembedded} embedded again`] : []),
    `${summary.skipped} skipped`,
    `${summary.removed} removed`,
  ];
  return `${summary.files} file(s): ${counts.join(", ")}; ${summary.chunks} chunk(s), ${summary.tokens} token(s) embedded with ${summary.model}${summary.dimensions ? ` (${summary.dimensions} dimensions)` : ""}, in ${seconds(summary.ms)}, into ${where}.`;
}
