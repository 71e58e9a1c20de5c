// First: refuses an old Node.js before any dependency (undici) loads and crashes on it.
import "./nodeCheck.js";
import dotenv from "dotenv";
import { type Config, ConfigError, loadConfig } from "./config.js";
import { createLogger } from "./logger.js";
import { type RunningServer, startServer } from "./main.js";
import { keepMemoryReducerWorking } from "./memoryReducer.js";

dotenv.config({ quiet: true });

let config: Config;
try {
  config = loadConfig(process.env, process.argv.slice(2));
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`mcp-lab: ${error.message}\nSee .env.example for every variable and its default.\n`);
  process.exit(2);
}

const logger = createLogger(config.logLevel);
// Stdout carries JSON-RPC in stdio mode and nothing otherwise; dependencies that print with
// console.log/info/debug (mcp-proxy does, per session) go to the JSON log at debug level.
const dependencyLog = logger.child({ component: "dependency" });
for (const method of ["log", "info", "debug"] as const) console[method] = (...args: unknown[]) => dependencyLog.debug(args.map(String).join(" "));
keepMemoryReducerWorking();
let running: RunningServer | undefined;

// Installed before start: a signal may arrive while the stdio handshake is still under way.
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    if (!running) process.exit(0);
    const backstop = setTimeout(() => process.exit(1), config.timeouts.shutdownMs + 1_500);
    backstop.unref();
    running.shutdown(signal).then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, "shutdown failed");
        process.exit(1);
      },
    );
  });
}

running = await startServer(config, logger).catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`mcp-lab: ${error.message}\n`);
    process.exit(2);
  }
  logger.fatal({ err: error }, "could not start");
  process.exit(1);
});
