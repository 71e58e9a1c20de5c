import type { IncomingMessage } from "node:http";
import type { Refusal } from "./security.js";

export function bodyTooLarge(maxBytes: number): Refusal {
  return { status: 413, message: `The request body is larger than ${maxBytes} bytes (MAX_BODY_BYTES).` };
}

/**
 * The cap on a POST's body, for a route's `serve`: a declared length over it is refused at once
 * (false); otherwise `limitBody` holds the body to the cap and refuses (closing the connection) if
 * it grows past it. Must run in the tick the request arrived in, like `limitBody`.
 */
export function capBody(req: IncomingMessage, maxBytes: number, refuse: (refusal: Refusal) => void): boolean {
  if (req.method !== "POST") return true;
  if (Number(req.headers["content-length"] ?? 0) > maxBytes) {
    refuse(bodyTooLarge(maxBytes));
    return false;
  }
  limitBody(req, maxBytes, () => refuse({ ...bodyTooLarge(maxBytes), headers: { connection: "close" } }));
  return true;
}

/**
 * Caps a request body at `maxBytes` whatever its framing (Content-Length, chunked, or none), before
 * any route reads it. The body is held until it has fully arrived, so a reader behind the front door
 * (mcp-proxy, or the SDK's SSE transport with its own 4 MB limit) sees it whole or not at all; past
 * the cap `onTooLarge` answers and the rest is dropped. Works on the HTTP parser's `push`, so it must
 * be installed in the same tick as the request event, before the first body chunk is parsed.
 */
export function limitBody(req: IncomingMessage, maxBytes: number, onTooLarge: () => void): void {
  const push = req.push.bind(req);
  const held: Buffer[] = [];
  let size = 0;
  let refused = false;
  req.push = (chunk: Buffer | null, encoding?: BufferEncoding) => {
    if (refused) return true;
    if (chunk === null) {
      for (const piece of held.splice(0)) push(piece);
      return push(null, encoding);
    }
    size += chunk.length;
    if (size > maxBytes) {
      refused = true;
      held.length = 0;
      onTooLarge();
      return true;
    }
    held.push(chunk);
    return true;
  };
}
