import { z } from "zod";
import type { KnowledgeBase } from "../services/docs/knowledge.js";
import type { DocumentInfo } from "../state/documents.js";
import { sectionName, userFacing } from "./docsCommon.js";
import { capOutput } from "./output.js";
import type { ToolDefinition } from "./tool.js";

const parameters = z.object({
  section: sectionName.optional().describe("List this section's documents (all of them, a page at a time). Omit for every section with its first titles."),
  offset: z
    .number({ error: "offset is a whole number from 0" })
    .int("offset is a whole number from 0")
    .min(0, "offset is a whole number from 0")
    .max(1_000_000_000, "offset is at most 1000000000")
    .optional()
    .describe("With section: skip this many documents (the answer says the next offset)."),
});

/** Sections shown in the overview, and titles per section there; a section's own page. */
const MAX_SECTIONS = 30;
const TITLES_PER_SECTION = 5;
const PAGE = 200;

const line = (d: DocumentInfo) => `- ${d.title} · id ${d.id} · ${d.bytes} bytes`;
const brief = (d: DocumentInfo) => ({ id: d.id, title: d.title, source: d.source, bytes: d.bytes, chunks: d.chunks });

export function listSectionsTool(deps: { knowledge: KnowledgeBase; maxOutputChars: number }): ToolDefinition<typeof parameters> {
  return {
    name: "list_sections",
    description:
      "Lists the sections of the user's documents (a section is a folder given to `pnpm index`, or the section named in add_document) with how many documents each holds and their first titles and ids; with section, every document of that section, a page at a time.",
    parameters,
    annotations: { title: "List document sections", readOnlyHint: true, openWorldHint: false },
    run: async (args, context) => {
      const owner = context.caller.id;
      if (args.section !== undefined) {
        const name = await userFacing(() => deps.knowledge.knownSection(args.section!, owner));
        const offset = args.offset ?? 0;
        const page = await deps.knowledge.list(owner, offset, PAGE + 1, name);
        const shown = page.slice(0, PAGE);
        const next = page.length > PAGE ? offset + PAGE : null;
        const text = [
          `## ${name}`,
          ...shown.map(line),
          ...(next === null ? [] : [`\n[more: call list_sections with section "${name}" and offset ${next}]`]),
        ].join("\n");
        return { text: capOutput(text, deps.maxOutputChars).text, structured: { section: name, offset, nextOffset: next, documents: shown.map(brief) } };
      }
      const sections = await deps.knowledge.sections(owner);
      if (sections.length === 0) {
        return { text: "No documents are indexed yet. Index a folder with `pnpm index <folder>`, or add one with add_document.", structured: { sections: [] } };
      }
      const shown = sections.slice(0, MAX_SECTIONS);
      const listed = await Promise.all(shown.map(async (s) => ({ ...s, first: await deps.knowledge.list(owner, 0, TITLES_PER_SECTION, s.section) })));
      const total = sections.reduce((sum, s) => sum + s.documents, 0);
      const text = [
        `${sections.length} section(s), ${total} document(s):`,
        ...listed.flatMap((s) => [
          "",
          `## ${s.section} (${s.documents} document(s), ${Math.ceil(s.bytes / 1024)} KB)`,
          ...s.first.map(line),
          ...(s.documents > s.first.length ? [`- … ${s.documents - s.first.length} more: list_sections with section "${s.section}"`] : []),
        ]),
        ...(sections.length > shown.length ? [`\n[${sections.length - shown.length} more sections not shown]`] : []),
      ].join("\n");
      return {
        text: capOutput(text, deps.maxOutputChars).text,
        structured: {
          sections: listed.map((s) => ({ section: s.section, documents: s.documents, bytes: s.bytes, first: s.first.map(brief) })),
          totalSections: sections.length,
        },
      };
    },
  };
}
