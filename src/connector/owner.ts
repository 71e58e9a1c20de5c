import type { IncomingMessage, ServerResponse } from "node:http";
import { isIPv4 } from "node:net";
import { sendJson } from "../http/respond.js";
import { bearerToken } from "../http/security.js";
import type { Connector } from "./connector.js";
import type { OwnerPassword } from "./password.js";

/** The path the owner's command (src/cli/connectors.ts) asks the running server at. */
export const OWNER_PATH = "/connector/clients";

/**
 * The owner's view of connected clients, for `connectors list|revoke` on the server's own machine:
 * only from a loopback socket (never through a proxy's or platform's edge, whatever its headers
 * say), and with the owner password as the bearer token. The embedded store belongs to the
 * running server, so that command asks the server rather than opening the store beside it.
 */
export async function serveOwner(req: IncomingMessage, res: ServerResponse, connector: Connector, password: OwnerPassword): Promise<void> {
  const peer = req.socket.remoteAddress ?? "";
  if (!isLoopbackPeer(peer) || PROXY_HEADERS.some((name) => req.headers[name] !== undefined))
    return sendJson(res, 404, { error: `Nothing is served at ${OWNER_PATH}.` });
  const verdict = password.check(peer, bearerToken(req));
  if (!verdict.ok && !verdict.wrong)
    return sendJson(res, 429, { error: "Too many wrong passwords; wait and try again." }, { "retry-after": String(Math.ceil(verdict.waitMs / 1000)) });
  if (!verdict.ok) return sendJson(res, 401, { error: "Send the owner password (CONNECTOR_OWNER_PASSWORD) as the bearer token." });
  if (req.method === "GET") return sendJson(res, 200, { clients: await connector.approvals.list() });
  const body = await readJson(req).catch(() => undefined);
  if (res.headersSent) return;
  const id = typeof body?.revoke === "string" ? body.revoke : undefined;
  if (!id) return sendJson(res, 400, { error: 'Send {"revoke": "<client id or caller id>"}.' });
  const revoked = await connector.approvals.revoke(id);
  if (!revoked) return sendJson(res, 404, { error: `No connected client has the id ${JSON.stringify(id.slice(0, 200))}.` });
  connector.logger.info({ connector: "revoked_by_owner", clientId: revoked.clientId, records: revoked.records }, "connector");
  sendJson(res, 200, { revoked });
}

/** Headers a proxy adds: a request carrying one came from elsewhere, even over a loopback socket (nginx on the same machine). */
const PROXY_HEADERS = ["forwarded", "x-forwarded-for", "x-real-ip", "via"];

function isLoopbackPeer(address: string): boolean {
  const bare = address.startsWith("::ffff:") && isIPv4(address.slice(7)) ? address.slice(7) : address;
  return bare === "::1" || /^127\.\d+\.\d+\.\d+$/.test(bare);
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown> | undefined> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  try {
    const value: unknown = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    return value && typeof value === "object" ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
