import { z } from "zod";
import { redactWindow } from "../secrets.js";
import type { KnowledgeBase } from "../services/docs/knowledge.js";
import { documentId } from "./docsCommon.js";
import { type ToolDefinition, ToolError } from "./tool.js";

const parameters = z.object({
  id: documentId.describe("The document's id, from search_docs, list_sections or ask_docs."),
  offset: z
    .number({ error: "offset is a whole number of characters from 0" })
    .int("offset is a whole number of characters from 0")
    .min(0, "offset is a whole number of characters from 0")
    .max(1_000_000_000, "offset is at most 1000000000")
    .optional()
    .describe("Where to start reading, in characters (default 0). A long document comes in pieces: the answer says which offset continues it."),
});

export function getDocumentTool(deps: { knowledge: KnowledgeBase; maxOutputChars: number }): ToolDefinition<typeof parameters> {
  return {
    name: "get_document",
    description:
      "Returns one of the user's documents whole (title, section, source and text), by the id search_docs or list_sections gave. A document longer than the server's output cap comes in pieces; the answer says the offset that continues it.",
    parameters,
    annotations: { title: "Read a document", readOnlyHint: true, openWorldHint: false },
    run: async ({ id, offset = 0 }, context) => {
      const document = await deps.knowledge.get(id, context.caller.id);
      if (!document) throw new ToolError(`There is no document with id ${id}. search_docs and list_sections give the ids of your documents.`);
      const length = document.content.length;
      if (offset > length)
        throw new ToolError(`offset ${offset} is past the end of "${document.title}", which has ${length} characters. Use an offset from 0 to ${length}.`);
      // Room for the header and the footer within MAX_OUTPUT_CHARS.
      const room = Math.max(100, deps.maxOutputChars - 600);
      const end = Math.min(length, offset + room);
      const next = end < length ? end : null;
      const header = `# ${document.title}\nsection ${document.section} · ${document.source} · ${document.bytes} bytes · id ${document.id}`;
      const range =
        offset > 0 || next !== null
          ? `\n\n[characters ${offset}–${end} of ${length}${next === null ? "" : `; call get_document with offset ${next} for the rest`}]`
          : "";
      const text = redactWindow(document.content.slice(offset, end));
      return {
        text: `${header}\n\n${text}${range}`,
        structured: {
          id: document.id,
          title: document.title,
          section: document.section,
          source: document.source,
          bytes: document.bytes,
          chunks: document.chunks,
          updatedAt: document.updatedAt.toISOString(),
          offset,
          length,
          nextOffset: next,
          text,
        },
      };
    },
  };
}
