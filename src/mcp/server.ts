import { FastMCP, type Logger as FastMcpLogger } from "fastmcp";
import type { Logger } from "../logger.js";
import type { ResourceDefinition } from "../tools/resource.js";
import type { RunnerDeps } from "../tools/runner.js";
import type { ToolDefinition } from "../tools/tool.js";
import { version } from "../version.js";
import { listResources, registerResource } from "./registerResource.js";
import { registerTool } from "./registerTool.js";

/** The MCP server (fastmcp) offering our tools, and our resources (listed per caller at each request). */
export function createMcpServer(tools: ToolDefinition[], deps: RunnerDeps & { progressIntervalMs: number }, resources: ResourceDefinition[] = []): FastMCP {
  const server = new FastMCP({
    name: "mcp-lab",
    version: version as `${number}.${number}.${number}`,
    instructions:
      "Gives access to local Ollama models and OpenAI-compatible cloud models, and to the user's own documents. Call list_models to see what is installed, then ask_llm with a model name. A slow answer comes back as a job_id: collect it with get_job (call it again while the job is running). For questions about the user's notes and documents, use ask_docs (an answer with sources) or search_docs (passages).",
    logger: fastMcpLogger(deps.logger),
    health: { enabled: false },
    // No tool uses the client's roots; asking for them only leaves a request the client may never answer.
    roots: { enabled: false },
    // Writes on a silent tool-call stream, for clients that sent no progress token, so proxies keep it open.
    streamKeepalive: { enabled: true, intervalMs: deps.progressIntervalMs },
    ...(resources.length > 0 && { utils: { listResources: listResources(resources) } }),
  });
  for (const tool of tools) registerTool(server, deps, tool);
  for (const resource of resources) registerResource(server, resource);
  return server;
}

/** fastmcp logs through a console-shaped object; route it into pino so nothing reaches stdout. */
function fastMcpLogger(logger: Logger): FastMcpLogger {
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
