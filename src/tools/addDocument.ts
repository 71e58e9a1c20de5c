import { z } from "zod";
import type { KnowledgeBase } from "../services/docs/knowledge.js";
import { sectionName, storableText, userFacing } from "./docsCommon.js";
import type { ToolDefinition } from "./tool.js";

const parameters = z.object({
  title: z
    .string()
    .trim()
    .min(1, "title must not be empty")
    .max(200, "title is at most 200 characters")
    .regex(/^[^\p{Cc}]+$/u, "title may not contain control characters")
    .describe("The document's title. Adding another text with the same title and section replaces this one."),
  text: storableText(z.string().min(1, "text must not be empty: pass the document's text (Markdown is split at its headings)"), "text").describe(
    "The document's text; Markdown headings split it into parts.",
  ),
  section: sectionName.optional().describe('The section it belongs to (default "notes"); list_sections shows the existing ones.'),
});

export function addDocumentTool(deps: { knowledge: KnowledgeBase }): ToolDefinition<typeof parameters> {
  return {
    name: "add_document",
    description:
      "Adds a text to the user's documents (or replaces the one with the same title and section): it is split, embedded with the server's embedding model and stored, so search_docs and ask_docs find it at once. Only the token that added it sees it.",
    parameters,
    annotations: { title: "Add a document", readOnlyHint: false, idempotentHint: true, openWorldHint: false },
    run: async (args, context, record) => {
      Object.assign(record, { provider: "ollama", model: deps.knowledge.embedModel });
      const section = args.section ?? "notes";
      const added = await userFacing(() =>
        deps.knowledge.add({ title: args.title, section, text: args.text, owner: context.caller.id, signal: context.signal }),
      );
      record.promptTokens = added.tokens;
      return {
        text: `Added "${args.title}" to section ${section} as id ${added.id} (${added.chunks} chunk(s)). search_docs and ask_docs find it now; only your token can see it.`,
        structured: { id: added.id, title: args.title, section, chunks: added.chunks },
      };
    },
  };
}
