import type { Config } from "../config.js";
import type { Services } from "../services/services.js";
import { addTool } from "./add.js";
import { addDocumentTool } from "./addDocument.js";
import { askDocsTool } from "./askDocs.js";
import { askLlmTool } from "./askLlm.js";
import { cancelJobTool } from "./cancelJob.js";
import { compareModelsTool } from "./compareModels.js";
import { documentResources } from "./documentResources.js";
import { getDocumentTool } from "./getDocument.js";
import { getJobTool } from "./getJob.js";
import { listJobsTool } from "./listJobs.js";
import { listModelsTool } from "./listModels.js";
import { listSectionsTool } from "./listSections.js";
import { modelInfoTool } from "./modelInfo.js";
import { pullModelTool } from "./pullModel.js";
import type { ResourceDefinition } from "./resource.js";
import { searchDocsTool } from "./searchDocs.js";
import type { ToolDefinition } from "./tool.js";

/** Every tool this server offers, each given only what it uses. */
export function createTools(config: Config, services: Services): ToolDefinition[] {
  const { gateway, conversations, catalog, router, ollama, jobs, knowledge } = services;
  const limits = { maxOutputChars: config.maxOutputChars, maxPromptChars: config.security.maxPromptChars, progressIntervalMs: config.progressIntervalMs };
  const tools: ToolDefinition[] = [
    addTool,
    askLlmTool({ gateway, conversations, jobs, defaultModel: config.defaultModel, ...limits }),
    listModelsTool({ catalog, defaultModel: config.defaultModel }),
    compareModelsTool({ gateway, jobs, ...limits }),
    modelInfoTool({ router, ollama }),
    getJobTool({ jobs, progressIntervalMs: config.progressIntervalMs }),
    cancelJobTool({ jobs }),
    listJobsTool({ jobs }),
    searchDocsTool({ knowledge, maxOutputChars: config.maxOutputChars }),
    getDocumentTool({ knowledge, maxOutputChars: config.maxOutputChars }),
    listSectionsTool({ knowledge, maxOutputChars: config.maxOutputChars }),
    askDocsTool({ knowledge, gateway, jobs, defaultModel: config.defaultModel, ...limits }),
  ];
  if (config.pull.enabled) tools.push(pullModelTool({ router, ollama, catalog, allowed: config.pull.allowed }));
  if (config.docs.addEnabled) tools.push(addDocumentTool({ knowledge }));
  return tools;
}

/** Every family of resources this server offers. */
export function createResources(config: Config, services: Services): ResourceDefinition[] {
  return [documentResources({ knowledge: services.knowledge, maxOutputChars: config.maxOutputChars })];
}
