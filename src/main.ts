import type { FastMCP } from "fastmcp";
import { createAppContext, type AppContext } from "./app.js";
import type { Config } from "./config.js";
import { createFrontDoor, type DoorState } from "./http/frontDoor.js";
import { startHttpTransports, type HttpListener } from "./http/listener.js";
import { ReadinessProbe, readyReport } from "./http/probes.js";
import { SessionRegistry, type SessionHandle } from "./http/sessions.js";
import { requestScope } from "./lifecycle.js";
import type { Logger } from "./logger.js";
import { warmModels } from "./llm/warmup.js";
import { createMcpServer } from "./server.js";

export type RunningServer = {
  app: AppContext;
  mcp: FastMCP;
  http: (HttpListener & { sessions: SessionRegistry }) | undefined;
  /** Stops taking new work, waits for calls in flight (bounded by SHUTDOWN_TIMEOUT_MS), closes every session. */
  shutdown(reason: string): Promise<void>;
};

export async function startServer(config: Config, logger: Logger): Promise<RunningServer> {
  const app = createAppContext(config, logger);
  const mcp = createMcpServer(app);
  app.sessions.count = () => mcp.sessions.length;
  const state: DoorState = { draining: false };
  let http: RunningServer["http"];
  let stopReaper = () => undefined as void;
  if (config.transport === "stdio") {
    await mcp.start({ transportType: "stdio" });
    logger.info({ transport: "stdio" }, "serving MCP over stdio");
  } else {
    const sessions = new SessionRegistry(config.security.sessionIdleTimeoutMs);
    // fastmcp announces a session from inside the request that opened it, so the scope names its caller.
    mcp.on("connect", ({ session }) => {
      const caller = requestScope.getStore()?.caller;
      if (caller) sessions.opened(session as SessionHandle, caller);
    });
    mcp.on("disconnect", ({ session }) => sessions.closed(session as SessionHandle));
    const readiness = new ReadinessProbe(async () => {
      const target = app.router.resolve(config.defaultModel);
      const readinessOf = await target.provider.checkReady(target.model, AbortSignal.timeout(config.timeouts.readyMs));
      return readyReport(readinessOf, { model: target.qualifiedName, provider: target.provider.name });
    }, config.security.readyCacheMs);
    const listener = await startHttpTransports(mcp, {
      host: config.host,
      port: config.port,
      stateless: config.stateless,
      maxBodyBytes: config.security.maxBodyBytes,
      sessionIdleTimeoutMs: config.security.sessionIdleTimeoutMs,
      sockets: { maxConnections: config.security.maxConnections, headersTimeoutMs: 20_000, requestTimeoutMs: 60_000, keepAliveTimeoutMs: 65_000 },
      front: createFrontDoor({ config, metrics: app.metrics, inFlight: app.inFlight, sseStreams: app.sseStreams, sessions, readiness, state }),
      onError: (error) => logger.error({ err: error }, "request failed in the front door"),
    });
    http = { ...listener, sessions };
    stopReaper = sessions.startReaper();
    logger.info({ host: config.host, port: http.port, stateless: config.stateless }, "serving MCP on /mcp (streamable HTTP) and /sse (legacy SSE)");
  }
  void warmModels(app);
  let stopping: Promise<void> | undefined;
  const shutdown = (reason: string) =>
    (stopping ??= (async () => {
      state.draining = true;
      stopReaper();
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
