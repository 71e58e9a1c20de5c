import type { IncomingMessage } from "node:http";

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
