import { type Logger, pino } from "pino";
import { redactDeep } from "./secrets.js";

export type { Logger };

const REDACTED_PATHS = ["apiKey", "token", "authorization", "*.apiKey", "*.token", "*.authorization", "headers.authorization", "req.headers.authorization"];

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
