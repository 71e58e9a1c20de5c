import type { Caller } from "../caller.js";

/**
 * What a family of MCP resources offers, free of the MCP framework (the counterpart of tool.ts):
 * one URI template, listed and read per caller. src/mcp/ turns it into resources/list,
 * resources/templates/list and resources/read.
 */
export type ResourceEntry = { uri: string; name: string; title?: string; description?: string; mimeType?: string };

export type ResourcePage = { resources: ResourceEntry[]; nextCursor?: string };

export type ResourceContents = { uri: string; mimeType: string; text: string };

export type ResourceDefinition = {
  name: string;
  title: string;
  description: string;
  /** An RFC 6570 template with one variable, e.g. `docs://documents/{id}`. */
  uriTemplate: string;
  mimeType: string;
  /** The caller's resources, a page at a time; `cursor` is what the previous page returned. */
  list(caller: Caller, cursor: string | undefined): Promise<ResourcePage>;
  /** The resource the template's variables name; ResourceNotFound when this caller has no such resource. */
  read(variables: Record<string, string>, caller: Caller): Promise<ResourceContents>;
  /** Values for the template's variable that fit what the caller has typed so far (completion/complete). */
  complete(value: string, caller: Caller): Promise<string[]>;
};

/** No such resource for this caller (another caller's is answered the same way). */
export class ResourceNotFound extends Error {
  override readonly name = "ResourceNotFound";
}

/** A cursor this server did not give out. */
export class InvalidCursor extends Error {
  override readonly name = "InvalidCursor";
}
