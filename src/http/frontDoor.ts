import type { AppContext } from "../app.js";
import type { FrontDoor } from "./listener.js";
import { health, ready } from "./probes.js";
import { sendJson } from "./respond.js";

const MCP_PATHS = new Set(["/mcp", "/sse", "/messages"]);

export function pathOf(url: string | undefined): string {
  const path = (url ?? "/").split("?")[0] ?? "/";
  return path.length > 1 ? path.replace(/\/+$/, "") : path;
}

/** Everything HTTP that is ours rather than fastmcp's: probes, and refusing new work while shutting down. */
export function createFrontDoor(app: AppContext, state: { draining: boolean }): FrontDoor {
  return async (req, res, next) => {
    const path = pathOf(req.url);
    const isRead = req.method === "GET" || req.method === "HEAD";
    if (isRead && path === "/health") return health(req, res);
    if (isRead && path === "/ready") {
      if (state.draining) return sendJson(res, 503, { status: "draining" });
      return ready(app, req, res);
    }
    if (state.draining && MCP_PATHS.has(path)) {
      return sendJson(res, 503, { error: "The server is shutting down; reconnect in a moment." }, { connection: "close", "retry-after": "1" });
    }
    // A streamable-HTTP call is done when its response is written, not when its tool returns.
    if (req.method === "POST" && path === "/mcp") void app.inFlight.track(new Promise((resolve) => res.once("close", resolve)));
    next();
  };
}
