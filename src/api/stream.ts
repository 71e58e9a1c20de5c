import type { ServerResponse } from "node:http";
import { redactText } from "../secrets.js";
import { type ApiDialect, type ApiError, errorBody } from "./errors.js";
import { formatEvent } from "./sse.js";

/**
 * An event on its way to the client: Anthropic's carry a name, OpenAI's are `data:` only. `raw` is
 * the upstream's own text of `data`, written as it came while nothing in `data` is changed (a
 * redaction that changes it drops `raw`), so a relayed event costs no second serialisation.
 */
export type ClientEvent = { event?: string; data: Record<string, unknown>; raw?: string };

export type Usage = { inputTokens: number | undefined; outputTokens: number | undefined };

/**
 * What differs between the two APIs' streams: which events are only a preamble (no part of the
 * answer yet), where usage is, how text is redacted as it streams (a secret cut across events
 * included), and how a stream ends or fails once it has begun.
 */
export interface StreamDialect {
  readonly name: ApiDialect;
  /** True for events that carry no part of the answer (OpenAI's role-only first chunk, Anthropic's message_start). */
  isPreamble(event: ClientEvent): boolean;
  /** Reads the usage an event reports into `usage`. */
  readUsage(event: ClientEvent, usage: Usage): void;
  /** The events to send for this one, text redacted (text held back for a secret still arriving comes out later). */
  redact(event: ClientEvent): ClientEvent[];
  /** Events that release text still held back, at the end of the stream. */
  flush(): ClientEvent[];
  /** Whether this event goes to the client at all (OpenAI's usage-only chunk does only when the client asked for usage). */
  shows(event: ClientEvent): boolean;
  /** What ends a complete stream after its last event (OpenAI's `[DONE]`). */
  readonly trailer: string;
}

/** Events held before the first piece of an answer at most: a stream that sends more of them is not answering. */
const MAX_HELD = 64;

/** Keep-alive and buffering headers for a relayed stream; a proxy must not hold it back. */
const SSE_HEADERS = { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", "x-accel-buffering": "no" };

/**
 * The client's side of a streamed answer. Nothing is written until the first event that carries a
 * part of the answer: until then a failed attempt can be retried or another model asked, and the
 * client never knows. From that event on the stream is `committed`: the head and the held events
 * go out, and a later failure can only end the stream with the API's error event.
 */
export class ClientStream {
  committed = false;
  usage: Usage = { inputTokens: undefined, outputTokens: undefined };
  private held: ClientEvent[] = [];
  private dialect!: StreamDialect;

  constructor(
    private readonly res: ServerResponse,
    private readonly headers: Record<string, string>,
  ) {}

  /** Each attempt (the first, a retry, another model, possibly through a translation) starts from nothing. */
  restart(dialect: StreamDialect): void {
    if (this.committed) return;
    this.dialect = dialect;
    this.held = [];
    this.usage = { inputTokens: undefined, outputTokens: undefined };
  }

  async send(event: ClientEvent): Promise<void> {
    this.dialect.readUsage(event, this.usage);
    if (!this.committed && this.dialect.isPreamble(event)) {
      // A keep-alive before the answer has begun means nothing to a client that has seen nothing yet.
      if (event.data.type === "ping") return;
      if (this.held.length >= MAX_HELD) throw new Error(`the upstream sent ${MAX_HELD} events without any part of an answer`);
      this.held.push(event);
      return;
    }
    await this.write([...this.held.splice(0), event]);
  }

  /** The stream ended as it should: held events and text go out, then the trailer. */
  async end(): Promise<void> {
    await this.write(this.held.splice(0), this.dialect.flush());
    if (!this.committed) this.commit();
    if (!this.res.writableEnded) this.res.end(this.dialect.trailer);
  }

  /** A failure after the stream was committed: the API's error event, then the end. */
  fail(error: ApiError): void {
    if (this.res.writableEnded || this.res.destroyed) return;
    this.res.end(formatEvent(this.dialect.name === "anthropic" ? "error" : undefined, errorBody(this.dialect.name, error)));
  }

  /** Redacts events in their order (a secret's pieces are followed across them), then writes those the client sees. */
  private async write(events: ClientEvent[], after: ClientEvent[] = []): Promise<void> {
    const shown = [...events.flatMap((event) => this.dialect.redact(event)), ...after].filter((event) => this.dialect.shows(event));
    if (shown.length === 0 || this.res.destroyed) return;
    if (!this.committed) this.commit();
    // Whole secrets anywhere in an event (ids, names) are hidden too; text split across events was handled by `redact`.
    const text = shown.map((event) => redactText(formatEvent(event.event, event.raw ?? event.data))).join("");
    if (!this.res.write(text)) await drained(this.res);
  }

  private commit(): void {
    this.committed = true;
    if (!this.res.headersSent) this.res.writeHead(200, { ...SSE_HEADERS, ...this.headers });
  }
}

/** Waits until the client has taken what was written (backpressure), or has gone. */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.once("drain", done);
    res.once("close", done);
  });
}
