/**
 * The request target (the path and query a client sent), accepted only in canonical form.
 *
 * The routers behind the front door (mcp-proxy, Hono) resolve a path with the WHATWG URL parser,
 * which turns `/./mcp`, `/%2e/mcp`, `/x/../mcp`, `/mcp#x` and `\mcp` into `/mcp`. A guard that
 * looked at the raw text would decide on one spelling while the router served another. So a target
 * is accepted only when it has exactly one spelling: plain segments of unreserved characters, no
 * empty, `.` or `..` segment, no percent-encoding in the path, no fragment, no backslash; and the
 * URL parser must agree that its path is that text. Anything else is refused with 400 before any
 * route is chosen, so every route sees only paths that it and the guard read the same way.
 */
export type Target = { path: string; query: string };

const SEGMENT = /^[A-Za-z0-9._~-]+$/;
// What may follow `?`: printable ASCII except `#` (Node's parser already refuses controls and spaces).
const QUERY = /^[\x21-\x22\x24-\x7e]*$/;

export function canonicalTarget(raw: string | undefined): Target | undefined {
  if (raw?.[0] !== "/" || raw.length > 8_192) return undefined;
  const mark = raw.indexOf("?");
  const path = mark === -1 ? raw : raw.slice(0, mark);
  const query = mark === -1 ? "" : raw.slice(mark + 1);
  if (!QUERY.test(query)) return undefined;
  if (path !== "/") {
    const segments = path.slice(1).split("/");
    if (!segments.every((segment) => SEGMENT.test(segment) && segment !== "." && segment !== "..")) return undefined;
  }
  let parsed: URL;
  try {
    parsed = new URL(raw, "http://localhost");
  } catch {
    return undefined;
  }
  if (parsed.pathname !== path || parsed.hash !== "") return undefined;
  return { path, query };
}
