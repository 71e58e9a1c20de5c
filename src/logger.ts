import { pino, type Logger } from "pino";
import type { Logger as FastMcpLogger } from "fastmcp";
import { redactDeep } from "./secrets.js";

export type { Logger };

const REDACTED_PATHS = [
  "apiKey",
  "token",
  "authorization",
  "*.apiKey",
  "*.token",
  "*.authorization",
  "headers.authorization",
  "req.headers.authorization",
];

/**
 * JSON logs on stderr only: stdout belongs to JSON-RPC in stdio mode.
 * `destination` exists for tests that capture the lines.
 */
export function createLogger(level: string, destination: pino.DestinationStream = pino.destination({ fd: 2, sync: true })): Logger {
  return pino(
    {
      level,
      base: { service: "mcp-lab" },
      redact: { paths: REDACTED_PATHS, censor: "[redacted]" },
      timestamp: pino.stdTimeFunctions.isoTime,
      // Keys and tokens can hide inside messages and errors (a provider echoing the key): scrub every argument.
      hooks: {
        logMethod(args, method) {
          method.apply(this, args.map(redactDeep) as Parameters<typeof method>);
        },
      },
    },
    destination,
  );
}

/** fastmcp logs through a console-shaped object; route it into pino so nothing reaches stdout. */
export function fastMcpLogger(logger: Logger): FastMcpLogger {
  const child = logger.child({ component: "fastmcp" });
  const line = (args: unknown[]) => args.map((a) => (a instanceof Error ? a.message : String(a))).join(" ");
  return {
    debug: (...args) => child.debug(line(args)),
    log: (...args) => child.debug(line(args)),
    info: (...args) => child.debug(line(args)),
    warn: (...args) => child.warn(line(args)),
    error: (...args) => child.error(line(args)),
  };
}
