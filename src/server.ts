import { FastMCP } from "fastmcp";
import type { AppContext } from "./app.js";
import { fastMcpLogger } from "./logger.js";
import { addTool } from "./tools/add.js";
import { askLlmTool } from "./tools/askLlm.js";
import { compareModelsTool } from "./tools/compareModels.js";
import { listModelsTool } from "./tools/listModels.js";
import { modelInfoTool } from "./tools/modelInfo.js";
import { pullModelTool } from "./tools/pullModel.js";
import { registerTool } from "./tools/toolkit.js";
import { version } from "./version.js";

export function createMcpServer(app: AppContext): FastMCP {
  const server = new FastMCP({
    name: "mcp-lab",
    version: version as `${number}.${number}.${number}`,
    instructions:
      "Gives access to local Ollama models and OpenAI-compatible cloud models. Call list_models to see what is installed, then ask_llm with a model name.",
    logger: fastMcpLogger(app.logger),
    health: { enabled: false },
    // No tool uses the client's roots; asking for them only leaves a request the client may never answer.
    roots: { enabled: false },
    // Writes on a silent tool-call stream, for clients that sent no progress token, so proxies keep it open.
    streamKeepalive: { enabled: true, intervalMs: app.config.progressIntervalMs },
  });
  registerTool(server, app, addTool);
  registerTool(server, app, askLlmTool(app));
  registerTool(server, app, listModelsTool(app));
  registerTool(server, app, compareModelsTool(app));
  registerTool(server, app, modelInfoTool(app));
  if (app.config.pull.enabled) registerTool(server, app, pullModelTool(app));
  return server;
}
