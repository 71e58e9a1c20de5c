import { redactWindow } from "../secrets.js";
import { formatOf } from "../services/docs/chunker.js";
import { ADDED_PREFIX } from "../services/docs/indexer.js";
import type { KnowledgeBase } from "../services/docs/knowledge.js";
import { InvalidCursor, type ResourceDefinition, ResourceNotFound } from "./resource.js";

/** Documents listed per page of resources/list. */
const PAGE = 100;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const mimeTypeOf = (source: string) => (source.startsWith(ADDED_PREFIX) || formatOf(source) === "markdown" ? "text/markdown" : "text/plain");

/**
 * The caller's documents as MCP resources, `docs://documents/<id>`, for clients that browse
 * resources: listed by section and title, a page at a time, and read whole (up to the output cap,
 * then get_document's offset continues it).
 */
export function documentResources(deps: { knowledge: KnowledgeBase; maxOutputChars: number }): ResourceDefinition {
  return {
    name: "document",
    title: "Your documents",
    description: "A document indexed with `pnpm index` or added with add_document, by id (search_docs and list_sections give ids).",
    uriTemplate: "docs://documents/{id}",
    mimeType: "text/markdown",
    async list(caller, cursor) {
      if (cursor !== undefined && !/^\d{1,9}$/.test(cursor))
        throw new InvalidCursor(`'${cursor.slice(0, 40)}' is not a cursor this server gave: start again without one.`);
      const offset = cursor === undefined ? 0 : Number(cursor);
      const page = await deps.knowledge.list(caller.id, offset, PAGE + 1);
      return {
        resources: page.slice(0, PAGE).map((d) => ({
          uri: `docs://documents/${d.id}`,
          name: d.title,
          title: d.title,
          description: `${d.section} · ${d.source.startsWith(ADDED_PREFIX) ? "added with add_document" : d.source} · ${d.bytes} bytes`,
          mimeType: mimeTypeOf(d.source),
        })),
        ...(page.length > PAGE && { nextCursor: String(offset + PAGE) }),
      };
    },
    complete(value, caller) {
      return deps.knowledge.complete(caller.id, value);
    },
    async read(variables, caller) {
      const id = variables.id ?? "";
      const document = UUID.test(id) ? await deps.knowledge.get(id, caller.id) : undefined;
      if (!document)
        throw new ResourceNotFound(
          `There is no document docs://documents/${id.slice(0, 60)}. resources/list, search_docs and list_sections give the ids of your documents.`,
        );
      const cut = document.content.length > deps.maxOutputChars;
      const text = redactWindow(document.content.slice(0, deps.maxOutputChars));
      const more = cut
        ? `\n\n[cut at ${deps.maxOutputChars} of ${document.content.length} characters; get_document with id ${document.id} and offset ${deps.maxOutputChars} continues it]`
        : "";
      return { uri: `docs://documents/${document.id}`, mimeType: mimeTypeOf(document.source), text: `${text}${more}` };
    },
  };
}
