import type { IncomingMessage, ServerResponse } from "node:http";
import type { AppContext } from "../app.js";
import { version } from "../version.js";
import { sendJson } from "./respond.js";

const startedAt = Date.now();

/** GET /health: liveness, no I/O. */
export function health(_req: IncomingMessage, res: ServerResponse): void {
  sendJson(res, 200, { status: "ok", version, uptimeSeconds: Math.round((Date.now() - startedAt) / 1000) });
}

/** GET /ready: 200 only when the default model's provider answers and has that model. No generation. */
export async function ready(app: AppContext, _req: IncomingMessage, res: ServerResponse): Promise<void> {
  const model = app.config.defaultModel;
  const target = app.router.resolve(model);
  const readiness = await target.provider.checkReady(target.model, AbortSignal.timeout(app.config.timeouts.readyMs));
  const about = { model: target.qualifiedName, provider: target.provider.name };
  if (readiness.ok) sendJson(res, 200, { status: "ready", ...about, detail: readiness.detail });
  else sendJson(res, 503, { status: "not_ready", ...about, reason: readiness.reason });
}
