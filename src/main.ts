import { constants } from "node:fs";
import { access, mkdir } from "node:fs/promises";
import type { FastMCP } from "fastmcp";
import { createApi, ModelAliases } from "./api/index.js";
import { type Config, ConfigError } from "./config.js";
import { createFrontDoor } from "./http/frontDoor.js";
import { ReadinessProbe, readyReport } from "./http/probes.js";
import type { DoorState } from "./http/routes.js";
import type { SessionHandle } from "./http/sessions.js";
import { requestScope } from "./lifecycle.js";
import type { Logger } from "./logger.js";
import { createMcpServer } from "./mcp/server.js";
import { type HttpListener, startHttpTransports } from "./mcp/startHttp.js";
import { createServices, type Seams, type Services } from "./services/services.js";
import { warmModels } from "./services/warmup.js";
import { createResources, createTools } from "./tools/index.js";

export type RunningServer = {
  services: Services;
  mcp: FastMCP;
  http: HttpListener | undefined;
  /** Stops taking new work, waits for calls in flight (bounded by SHUTDOWN_TIMEOUT_MS), closes every session. */
  shutdown(reason: string): Promise<void>;
};

/** Wires the parts together and starts serving, over HTTP or stdio as configured. */
export async function startServer(config: Config, logger: Logger, seams: Seams = {}): Promise<RunningServer> {
  if (!config.state.databaseUrl) await ensureWritable(config.state.dataDir);
  const services = createServices(config, logger, seams);
  const { metrics, inFlight, stopping, sessions } = services;
  const mcp = createMcpServer(
    createTools(config, services),
    { logger, metrics, inFlight, stopping: stopping.signal, progressIntervalMs: config.progressIntervalMs },
    createResources(config, services),
  );
  const state: DoorState = { draining: false };
  const http = config.transport === "stdio" ? await startStdio(mcp, logger) : await startHttp(config, logger, services, mcp, state);
  const stopReaper = http ? sessions.startReaper() : () => undefined;
  services.state.startMaintenance();
  void warmModels(config.warmModels, { router: services.router, ollama: services.ollama, logger });
  let stopping_: Promise<void> | undefined;
  const shutdown = (reason: string) =>
    (stopping_ ??= (async () => {
      state.draining = true;
      stopReaper();
      logger.info({ reason, inFlight: inFlight.size, jobs: services.jobs.size }, "shutting down");
      // Jobs running in the background get the same drain period, then are marked interrupted.
      const jobsDrained = services.jobs.drain(config.timeouts.shutdownMs);
      if (!(await inFlight.drained(config.timeouts.shutdownMs))) {
        logger.warn({ inFlight: inFlight.size }, "calls still in flight at the shutdown deadline are cancelled");
        stopping.abort();
        await inFlight.drained(1_000);
      }
      await jobsDrained;
      // Results of tools that just returned are still being written to their streams.
      await new Promise((resolve) => setTimeout(resolve, 100));
      await mcp.stop();
      await services.providerHttp.close();
      await services.usage.flush();
      await services.state.close();
      logger.info("stopped");
    })());
  return { services, mcp, http, shutdown };
}

async function startStdio(mcp: FastMCP, logger: Logger): Promise<undefined> {
  await mcp.start({ transportType: "stdio" });
  logger.info({ transport: "stdio" }, "serving MCP over stdio");
  return undefined;
}

async function startHttp(config: Config, logger: Logger, services: Services, mcp: FastMCP, state: DoorState): Promise<HttpListener> {
  const { sessions } = services;
  // fastmcp announces a session from inside the request that opened it, so the scope names its caller.
  mcp.on("connect", ({ session }) => {
    const caller = requestScope.getStore()?.caller;
    if (caller) sessions.opened(session as SessionHandle, caller);
  });
  mcp.on("disconnect", ({ session }) => sessions.closed(session as SessionHandle));
  const readiness = new ReadinessProbe(async () => {
    const target = services.router.resolve(config.defaultModel);
    const signal = AbortSignal.timeout(config.timeouts.readyMs);
    const [provider, state] = await Promise.all([target.provider.checkReady(target.model, signal), services.state.check(signal)]);
    return readyReport(provider, state, { model: target.qualifiedName, provider: target.provider.name, state: services.state.where });
  }, config.security.readyCacheMs);
  const listener = await startHttpTransports(mcp, {
    host: config.host,
    port: config.port,
    stateless: config.stateless,
    sockets: { maxConnections: config.security.maxConnections, headersTimeoutMs: 20_000, requestTimeoutMs: 60_000, keepAliveTimeoutMs: 65_000 },
    front: createFrontDoor({
      config,
      metrics: services.metrics,
      sseStreams: services.sseStreams,
      sessions,
      readiness,
      state,
      connector: services.connector,
      api: apiOf(config, logger, services),
    }),
    onError: (error) => logger.error({ err: error }, "request failed in the front door"),
  });
  logger.info(
    { host: config.host, port: listener.port, stateless: config.stateless },
    "serving MCP on /mcp (streamable HTTP) and /sse (legacy SSE), and the OpenAI- and Anthropic-compatible API on /v1",
  );
  if (services.connector) logger.info({ resource: services.connector.urls.resource }, "the connector door is on: OAuth clients connect at /connector/mcp");
  return listener;
}

/** The OpenAI- and Anthropic-compatible endpoints, on the same services as the MCP tools. */
function apiOf(config: Config, logger: Logger, services: Services) {
  const { gateway, catalog, metrics, usage, inFlight, stopping } = services;
  const { firstTokenMs, idleMs, totalMs } = config.timeouts;
  return createApi({
    gateway,
    catalog,
    aliases: new ModelAliases(config.api.aliases),
    metrics,
    logger,
    usage,
    inFlight,
    stopping: stopping.signal,
    limits: { maxBodyBytes: config.security.maxBodyBytes, maxPromptChars: config.security.maxPromptChars, maxOutputTokens: config.caps.maxOutputTokens },
    streamLimits: { firstTokenMs, idleMs, totalMs },
  });
}

/** The embedded store's directory must exist and be writable before anything relies on it. */
async function ensureWritable(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
    await access(dir, constants.W_OK);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new ConfigError([
      `DATA_DIR="${dir}" is not a directory this user can write (${reason}): set DATA_DIR to one it can, or DATABASE_URL to a PostgreSQL server`,
    ]);
  }
}
