import { z } from "zod";
import type { KnowledgeBase } from "../services/docs/knowledge.js";
import { hitData, sectionName, storableText, topN, userFacing, where } from "./docsCommon.js";
import { capOutput } from "./output.js";
import type { ToolDefinition } from "./tool.js";

export const MAX_QUERY_CHARS = 2_000;

export const searchQuery = storableText(
  z
    .string()
    .trim()
    .min(1, "query must not be empty: say what to look for, e.g. an error message, a name or a question")
    .max(MAX_QUERY_CHARS, `query is at most ${MAX_QUERY_CHARS} characters: search for one thing at a time`),
  "query",
);

const parameters = z.object({
  query: searchQuery.describe("What to look for: a question, a phrase, an exact name or an error code."),
  top_n: topN(50, 5),
  section: sectionName.optional().describe("Only search this section (list_sections shows them). Omit to search everything."),
});

const MODES = { hybrid: "by meaning and by keywords", keyword: "by keywords only", vector: "by meaning only" } as const;

export function searchDocsTool(deps: { knowledge: KnowledgeBase; maxOutputChars: number }): ToolDefinition<typeof parameters> {
  return {
    name: "search_docs",
    description:
      "Searches the user's own documents (notes, manuals, project docs indexed with `pnpm index`) by meaning and by keywords at once, so both questions and exact names or error codes are found. Returns the best passages with document title, section, heading, a snippet, a score and the document id (open it whole with get_document).",
    parameters,
    annotations: { title: "Search your documents", readOnlyHint: true, openWorldHint: false },
    run: async (args, context, record) => {
      Object.assign(record, { provider: "ollama", model: deps.knowledge.embedModel });
      const found = await userFacing(() =>
        deps.knowledge.search({ query: args.query, topN: args.top_n ?? 5, section: args.section, owner: context.caller.id, signal: context.signal }),
      );
      record.promptTokens = found.tokens;
      const results = found.hits.map((hit) => hitData(hit, args.query));
      const lines = [
        results.length === 0
          ? `Nothing in your documents matches "${args.query}"${args.section ? ` in section ${args.section}` : ""}.`
          : `${results.length} passage(s) for "${args.query}", ranked ${MODES[found.mode]}:`,
        ...results.flatMap((r, i) => [
          "",
          `${i + 1}. ${where(r)} (section ${r.section}) · score ${r.score}`,
          `   id ${r.id} · chunk ${r.chunk}${r.similarity === null ? "" : ` · similarity ${r.similarity}`}${r.keywordRank === null ? "" : ` · keyword rank ${r.keywordRank}`}`,
          `   ${r.snippet}`,
        ]),
        ...found.notes.map((note) => `\n— ${note}`),
      ];
      return { text: capOutput(lines.join("\n"), deps.maxOutputChars).text, structured: { query: args.query, mode: found.mode, results, notes: found.notes } };
    },
  };
}
