import type { IncomingMessage } from "node:http";
import { type ApiDialect, ApiError, errorBody } from "../api/errors.js";
import { type ApiRoute, type ApiSurface, modelsDialect } from "../api/index.js";
import type { Config } from "../config.js";
import { capBody } from "./bodyLimit.js";
import type { DoorState, Refuse, Route, RouteTable } from "./routes.js";
import type { Refusal } from "./security.js";

export type ApiRouteParts = { config: Config; state: DoorState; api: ApiSurface };

const openAi = () => "openai" as const;
const anthropic = () => "anthropic" as const;

/**
 * The OpenAI- and Anthropic-compatible endpoints, behind the same guard as /mcp (Host/Origin,
 * failed logins, the token, the rate), with the token also taken as Anthropic's `x-api-key`; then
 * the body cap (413) and the shutdown check (503). Every refusal, the guard's included, comes in
 * the body of the client's own API, so its SDK reports it as it would the real service's.
 */
export function addApiRoutes(table: RouteTable, parts: ApiRouteParts, refuse: Refuse): RouteTable {
  const row = (name: ApiRoute, methods: string[], dialect: (req: IncomingMessage) => ApiDialect): Route => {
    const refusalBody = (req: IncomingMessage, refusal: Refusal) => errorBody(dialect(req), new ApiError(refusal.status, refusal.message));
    return {
      methods,
      access: "guarded",
      apiKey: true,
      refusalBody,
      serve: ({ req, res, caller }) => {
        const shaped = (refusal: Refusal) => refuse(res, refusal, refusalBody(req, refusal));
        if (!capBody(req, parts.config.security.maxBodyBytes, shaped)) return;
        if (parts.state.draining)
          return shaped({ status: 503, message: "The server is shutting down; try again in a moment.", headers: { connection: "close", "retry-after": "1" } });
        return parts.api[name]({ req, res, caller });
      },
    };
  };
  const unknown: Route = {
    methods: ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"],
    access: "guarded",
    apiKey: true,
    refusalBody: (req, refusal) => errorBody(modelsDialect({ req }), new ApiError(refusal.status, refusal.message)),
    serve: ({ req, res, target }) => {
      const message = `Nothing is served at ${target.path}. This server answers /v1/models, /v1/chat/completions, /v1/messages and /v1/messages/count_tokens.`;
      refuse(res, { status: 404, message }, errorBody(modelsDialect({ req }), new ApiError(404, message)));
    },
  };
  return table
    .add(
      "/v1/models",
      row("models", ["GET"], (req) => modelsDialect({ req })),
    )
    .add("/v1/chat/completions", row("chat_completions", ["POST"], openAi))
    .add("/v1/messages", row("messages", ["POST"], anthropic))
    .add("/v1/messages/count_tokens", row("count_tokens", ["POST"], anthropic))
    .add("/v1/", unknown);
}
