import type { IncomingMessage, ServerResponse } from "node:http";
import type { Caller } from "../caller.js";
import type { Verdict } from "./guard.js";
import type { Refusal } from "./security.js";
import type { Target } from "./target.js";

/** One request, as a route sees it: the path already canonical, the caller already checked (for guarded routes). */
/** Whether the server is draining (shutting down): guarded routes then refuse new work. */
export type DoorState = { draining: boolean };

/** Answers a refusal: `{"error": message}`, or `body` when the route's clients expect another shape. */
export type Refuse = (res: ServerResponse, refusal: Refusal, body?: unknown) => void;

export type RouteRequest = { req: IncomingMessage; res: ServerResponse; target: Target; next: () => void };

export type Route =
  /** Answered to anyone (probes, public metadata). */
  | { methods: readonly string[]; access: "open"; serve(request: RouteRequest): void | Promise<void> }
  /**
   * Behind the guard: `tokens` are the bearer tokens this route takes (default: MCP_AUTH_TOKEN's),
   * or `guard` checks the request instead of the static-token guard (the connector door's access
   * tokens); `preflight` lets a browser's CORS preflight (which carries no token) through to `next`;
   * `upstreamPath` is the path fastmcp serves the route at (the request is handed over as that);
   * `apiKey` also takes the token as Anthropic's `x-api-key` header; `refusalBody` shapes the
   * guard's refusals (401, 403, 429) as the route's clients expect them (an API's own error shape).
   */
  | {
      methods: readonly string[];
      access: "guarded";
      tokens?: string[];
      guard?: (req: IncomingMessage) => Promise<Verdict>;
      preflight?: boolean;
      upstreamPath?: string;
      apiKey?: boolean;
      refusalBody?: (req: IncomingMessage, refusal: Refusal) => unknown;
      serve(request: RouteRequest & { caller: Caller }): void | Promise<void>;
    };

/** Routes by exact path, plus prefixes (a path under `/.well-known/`, say) for families of paths. */
export class RouteTable {
  private readonly exact = new Map<string, Route>();
  private readonly prefixes: Array<[string, Route]> = [];

  add(path: string, route: Route): this {
    if (path.endsWith("/")) this.prefixes.push([path, route]);
    else this.exact.set(path, route);
    return this;
  }

  /** Adds every route of another table (its exact paths, then its prefixes, in its order). */
  merge(other: RouteTable): this {
    for (const [path, route] of other.exact) this.exact.set(path, route);
    this.prefixes.push(...other.prefixes);
    return this;
  }

  find(path: string): Route | undefined {
    return this.exact.get(path) ?? this.prefixes.find(([prefix]) => path.startsWith(prefix))?.[1];
  }
}
