import { createHash } from "node:crypto";

/**
 * Who a call belongs to. Everything a caller creates (sessions, conversations) is bound to `id`, and
 * another caller is told such a thing does not exist. `id` is derived from the token, never the
 * token itself, so it may be stored and logged; it is never a metric label.
 */
export type Caller = {
  /**
   * `token:<16 hex of the token's SHA-256>` for a token holder; `oauth:<16 hex of the client id's
   * SHA-256>` for a client connected through the connector door; `open` on a server without tokens;
   * `stdio` over stdio.
   */
  id: string;
  /** The client's address: the socket's peer, or the platform's client-IP header where one is trusted. */
  address: string;
};

export const STDIO_CALLER: Caller = { id: "stdio", address: "stdio" };

export function tokenCallerId(token: string): string {
  return `token:${createHash("sha256").update(token).digest("hex").slice(0, 16)}`;
}

/** A client connected through the connector door (OAuth) is its own caller, apart from every token holder. */
export function connectorCallerId(clientId: string): string {
  return `oauth:${createHash("sha256").update(clientId).digest("hex").slice(0, 16)}`;
}
