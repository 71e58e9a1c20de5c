/**
 * Every secret the configuration holds (API keys, tokens), so that text leaving the server can be
 * scrubbed of them: some OpenAI-compatible servers echo the key they were sent in their errors or
 * answers. Process-wide on purpose: provider errors are built far from the configuration, and
 * scrubbing a secret of another server instance in the same process (tests) does no harm.
 */
const known = new Set<string>();
let longest = 0;

const HIDDEN = "(hidden)";
/** The shortest piece of a secret, cut at the edge of a text, that is hidden too. */
const MIN_PARTIAL = 4;

export function registerSecrets(values: Array<string | undefined>): void {
  for (const value of values) {
    if (!value || value.length < 8) continue;
    known.add(value);
    longest = Math.max(longest, value.length);
  }
}

export function redactText(text: string): string {
  let result = text;
  for (const secret of known) if (result.includes(secret)) result = result.split(secret).join(HIDDEN);
  return result;
}

/** Hides the start of a secret left at the end of a text (`end`), or its end left at the start (`start`). */
function hidePartial(text: string, edge: "start" | "end"): string {
  for (const secret of known) {
    for (let length = Math.min(secret.length - 1, text.length); length >= MIN_PARTIAL; length--) {
      if (edge === "end" && text.endsWith(secret.slice(0, length))) return text.slice(0, text.length - length) + HIDDEN;
      if (edge === "start" && text.startsWith(secret.slice(secret.length - length))) return HIDDEN + text.slice(length);
    }
  }
  return text;
}

/**
 * Cuts a text to at most `max` characters, keeping its start (or, with `keep: "end"`, its end), and
 * redacts it so that no secret survives whole or in part: a secret cut in two by the cut is hidden
 * too. Use it wherever text from outside is shortened before it leaves the process.
 */
export function cutRedacted(text: string, max: number, keep: "start" | "end" = "start"): string {
  const window = keep === "start" ? text.slice(0, max + longest) : text.slice(Math.max(0, text.length - max - longest));
  const redacted = redactText(window);
  if (redacted.length <= max && window.length === text.length) return redacted;
  return keep === "start" ? hidePartial(redacted.slice(0, max), "end") : hidePartial(redacted.slice(-max), "start");
}

/**
 * For text still arriving (a progress tail): a secret may be cut at either edge, by the window at
 * its start or by the stream at its end.
 */
export function redactWindow(text: string): string {
  return hidePartial(hidePartial(redactText(text), "end"), "start");
}

/** Redacts every string inside a JSON-shaped value (an Error keeps its name, message and stack). */
export function redactDeep<T>(value: T): T {
  if (typeof value === "string") return redactText(value) as T;
  if (value instanceof Error) return { type: value.name, message: redactText(value.message), stack: redactText(value.stack ?? "") } as T;
  if (Array.isArray(value)) return value.map(redactDeep) as T;
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, redactDeep(inner)])) as T;
  }
  return value;
}

/** The length of the longest end of `text` that is a start of some secret (which may still be arriving). */
function secretStartAtEnd(text: string): number {
  let best = 0;
  for (const secret of known) {
    for (let length = Math.min(secret.length - 1, text.length); length > best; length--) {
      if (text.endsWith(secret.slice(0, length))) {
        best = length;
        break;
      }
    }
  }
  return best;
}

/**
 * Redacts one text that arrives in pieces (a streamed answer relayed as it comes): whatever it
 * passes on has every whole secret hidden, and a secret cut in two by the pieces is hidden too,
 * because an end that could be the start of a secret is held back until the next piece (or `end`)
 * says what it is. Each piece costs its length plus the secrets' lengths squared (short).
 */
export class StreamRedactor {
  private held = "";

  /** The text that may go out now (possibly empty); the rest waits for the next piece. */
  push(piece: string): string {
    if (known.size === 0) return piece;
    const text = redactText(this.held + piece);
    const keep = secretStartAtEnd(text);
    this.held = text.slice(text.length - keep);
    return text.slice(0, text.length - keep);
  }

  /** Whatever was held back, once the text is over: a start of a secret long enough to matter is hidden. */
  end(): string {
    const held = this.held;
    this.held = "";
    return held && hidePartial(held, "end");
  }

  get holding(): boolean {
    return this.held !== "";
  }
}

/** The password in a database URL, so that it can be registered as a secret (undefined when there is none). */
export function passwordOf(url: string | undefined): string | undefined {
  try {
    return url ? decodeURIComponent(new URL(url).password) || undefined : undefined;
  } catch {
    return undefined;
  }
}
