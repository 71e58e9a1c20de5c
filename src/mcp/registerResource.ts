import type { FastMCP } from "fastmcp";
import { STDIO_CALLER } from "../caller.js";
import { requestScope } from "../lifecycle.js";
import { redactText } from "../secrets.js";
import { InvalidCursor, type ResourceDefinition, ResourceNotFound, type ResourcePage } from "../tools/resource.js";

/** JSON-RPC error codes the MCP spec gives these failures (the SDK sends an error's numeric `code`). */
const RESOURCE_NOT_FOUND = -32002;
const INVALID_PARAMS = -32602;
const INTERNAL_ERROR = -32603;

class ResourceRequestError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

function asRequestError(error: unknown): ResourceRequestError {
  const message = redactText(error instanceof Error ? error.message : String(error));
  if (error instanceof ResourceNotFound) return new ResourceRequestError(RESOURCE_NOT_FOUND, message);
  if (error instanceof InvalidCursor) return new ResourceRequestError(INVALID_PARAMS, message);
  return new ResourceRequestError(INTERNAL_ERROR, message);
}

/** The HTTP request's caller (the front door put it there); stdio has one caller. */
const caller = () => requestScope.getStore()?.caller ?? STDIO_CALLER;

/**
 * resources/list for every family at once, for fastmcp's `utils.listResources` (our patch): each
 * family's pages in turn, the cursor saying which family and where in it (`<family>:<its cursor>`).
 */
export function listResources(resources: ResourceDefinition[]): (cursor?: string) => Promise<ResourcePage> {
  return async (cursor) => {
    try {
      let family = 0;
      let inner: string | undefined;
      if (cursor !== undefined) {
        const match = /^(\d{1,3}):(.*)$/.exec(cursor);
        if (!match || Number(match[1]) >= resources.length)
          throw new InvalidCursor(`'${cursor.slice(0, 40)}' is not a cursor this server gave: start again without one.`);
        family = Number(match[1]);
        inner = match[2] || undefined;
      }
      for (; family < resources.length; family++, inner = undefined) {
        const page = await resources[family]!.list(caller(), inner);
        if (page.nextCursor !== undefined) return { resources: page.resources, nextCursor: `${family}:${page.nextCursor}` };
        if (page.resources.length > 0 || family === resources.length - 1) {
          return { resources: page.resources, ...(family + 1 < resources.length && { nextCursor: `${family + 1}:` }) };
        }
      }
      return { resources: [] };
    } catch (error) {
      throw asRequestError(error);
    }
  };
}

/** Offers a family of resources through fastmcp: its template, and reads as the calling token. */
export function registerResource(server: FastMCP, resource: ResourceDefinition): void {
  const variable = /\{([a-z_]+)\}/i.exec(resource.uriTemplate)?.[1] ?? "id";
  server.addResourceTemplate({
    name: resource.name,
    description: resource.description,
    mimeType: resource.mimeType,
    uriTemplate: resource.uriTemplate,
    arguments: [{ name: variable, description: `The ${variable} in ${resource.uriTemplate}.`, required: true }],
    complete: async (_name: string, value: string) => {
      try {
        return { values: await resource.complete(value, caller()) };
      } catch (error) {
        throw asRequestError(error);
      }
    },
    load: async (args: Record<string, string>) => {
      try {
        const contents = await resource.read(args, caller());
        return { uri: contents.uri, mimeType: contents.mimeType, text: contents.text };
      } catch (error) {
        throw asRequestError(error);
      }
    },
  });
}
