import { cutRedacted, redactText, redactWindow } from "../secrets.js";
import type { Progress } from "./tool.js";

type Send = (progress: Progress) => Promise<void>;

/**
 * MCP progress for a long call: the first update at once, later ones at most every `throttleMs`,
 * and a heartbeat whenever nothing was sent for `heartbeatMs`, so that neither the client's
 * request timeout nor an idle proxy ends a call that is still working (a model loading, or
 * thinking silently). `progress` only ever grows, as the spec requires. A no-op for clients that
 * sent no progress token.
 */
export class ProgressReporter {
  private count = 0;
  private sentCount = 0;
  private lastSent = 0;
  private latest: () => string = () => "";
  private pending: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private readonly started = Date.now();

  constructor(
    private readonly send: Send,
    private readonly label: string,
    private readonly heartbeatMs: number,
    private readonly throttleMs = 250,
  ) {
    this.armHeartbeat();
  }

  /** Records one step of work (a streamed token, a finished model); `describe` runs only when a notification is sent. */
  step(describe: () => string): void {
    this.count++;
    this.latest = describe;
    if (this.lastSent === 0 || Date.now() - this.lastSent >= this.throttleMs) this.flush();
    else this.pending ??= setTimeout(() => this.flush(), this.throttleMs - (Date.now() - this.lastSent));
  }

  stop(): void {
    clearTimeout(this.pending);
    clearTimeout(this.heartbeat);
  }

  private flush(): void {
    clearTimeout(this.pending);
    this.pending = undefined;
    this.emit(`${this.label}: ${this.latest()}`);
  }

  private armHeartbeat(): void {
    clearTimeout(this.heartbeat);
    this.heartbeat = setTimeout(() => {
      const waited = Math.round((Date.now() - this.started) / 1000);
      const latest = this.latest();
      this.emit(`${this.label}: still working after ${waited} s${latest ? ` (${latest})` : " (loading the model or thinking)"}`);
    }, this.heartbeatMs);
  }

  /** Each notification's `progress` is above the last one's, even when nothing was counted in between (a heartbeat). */
  private emit(message: string): void {
    this.lastSent = Date.now();
    this.count = Math.max(this.count, this.sentCount + 1);
    this.sentCount = this.count;
    this.send({ progress: this.count, message: redactText(message) }).catch(() => undefined);
    this.armHeartbeat();
  }
}

/** The last `length` characters of a text, on one line, for a progress message. Reads only the end of the text. */
export function tail(text: string, length = 60): string {
  const flat = redactWindow(cutRedacted(text, 4 * length, "end")).replace(/\s+/g, " ");
  return flat.length > length ? `…${redactWindow(flat.slice(-length))}` : flat;
}
