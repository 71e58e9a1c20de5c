import { setMaxListeners } from "node:events";
import { countTokens, messages } from "./anthropic/messages.js";
import type { ApiDialect } from "./errors.js";
import { listModels, modelsBody } from "./models.js";
import { chatCompletions } from "./openai/chatCompletions.js";
import type { ApiRecord, ApiRoute } from "./record.js";
import { sendJsonText } from "./respond.js";
import { type ApiCall, type ApiDeps, serveApi } from "./serve.js";

export { ModelAliases } from "./aliases.js";
export type { ApiRoute } from "./record.js";
export type { ApiCall, ApiDeps } from "./serve.js";

/** The OpenAI- and Anthropic-compatible endpoints, by route: each answers in its own API's shapes. */
export type ApiSurface = Record<ApiRoute, (call: ApiCall) => Promise<void>>;

/** GET /v1/models answers in Anthropic's shape to a client that sends `anthropic-version`, else in OpenAI's. */
export const modelsDialect = (call: Pick<ApiCall, "req">): ApiDialect => (call.req.headers["anthropic-version"] === undefined ? "openai" : "anthropic");

export function createApi(deps: ApiDeps): ApiSurface {
  // Each request in flight listens on the shutdown signal until it ends (as many as there are
  // connections, MAX_CONNECTIONS): not the leak Node's warning past 10 listeners suspects.
  setMaxListeners(0, deps.stopping);
  const route =
    (name: ApiRoute, dialect: (call: ApiCall) => ApiDialect, work: (deps: ApiDeps, call: ApiCall, record: ApiRecord) => Promise<void>) => (call: ApiCall) =>
      serveApi(deps, call, name, dialect(call), (record) => work(deps, call, record));
  return {
    chat_completions: route("chat_completions", () => "openai", chatCompletions),
    messages: route("messages", () => "anthropic", messages),
    count_tokens: route("count_tokens", () => "anthropic", countTokens),
    models: route("models", modelsDialect, async (deps, call) => {
      sendJsonText(call.res, 200, JSON.stringify(modelsBody(call.req, await listModels(deps))));
    }),
  };
}
