import type { FastMCP } from "fastmcp";
import { createAppContext, type AppContext } from "./app.js";
import type { Config } from "./config.js";
import { createFrontDoor } from "./http/frontDoor.js";
import { startHttpTransports, type HttpListener } from "./http/listener.js";
import type { Logger } from "./logger.js";
import { warmModels } from "./llm/warmup.js";
import { createMcpServer } from "./server.js";

export type RunningServer = {
  app: AppContext;
  mcp: FastMCP;
  http: HttpListener | undefined;
  /** Stops taking new work, waits for calls in flight (bounded by SHUTDOWN_TIMEOUT_MS), closes every session. */
  shutdown(reason: string): Promise<void>;
};

export async function startServer(config: Config, logger: Logger): Promise<RunningServer> {
  const app = createAppContext(config, logger);
  const mcp = createMcpServer(app);
  app.sessions.count = () => mcp.sessions.length;
  const state = { draining: false };
  let http: HttpListener | undefined;
  if (config.transport === "stdio") {
    await mcp.start({ transportType: "stdio" });
    logger.info({ transport: "stdio" }, "serving MCP over stdio");
  } else {
    http = await startHttpTransports(mcp, {
      host: config.host,
      port: config.port,
      stateless: config.stateless,
      maxBodyBytes: config.security.maxBodyBytes,
      sessionIdleTimeoutMs: config.security.sessionIdleTimeoutMs,
      front: createFrontDoor(app, state),
    });
    logger.info({ host: config.host, port: http.port, stateless: config.stateless }, "serving MCP on /mcp (streamable HTTP) and /sse (legacy SSE)");
  }
  void warmModels(app);
  let stopping: Promise<void> | undefined;
  const shutdown = (reason: string) =>
    (stopping ??= (async () => {
      state.draining = true;
      logger.info({ reason, inFlight: app.inFlight.size }, "shutting down");
      const drained = await app.inFlight.drained(config.timeouts.shutdownMs);
      if (!drained) {
        logger.warn({ inFlight: app.inFlight.size }, "calls still in flight at the shutdown deadline are cancelled");
        app.stopping.abort();
        await app.inFlight.drained(1_000);
      }
      // Results of tools that just returned are still being written to SSE streams.
      await new Promise((resolve) => setTimeout(resolve, 100));
      await mcp.stop();
      await app.http.close();
      logger.info("stopped");
    })());
  return { app, mcp, http, shutdown };
}
