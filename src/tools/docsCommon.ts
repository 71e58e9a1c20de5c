import { z } from "zod";
import { hasControlCharacters } from "../controlCharacters.js";
import { redactWindow } from "../secrets.js";
import { DocsError } from "../services/docs/knowledge.js";
import type { SearchHit } from "../state/documentSearch.js";
import { ToolError } from "./tool.js";

/** What the document tools share: argument checks, the caller-facing errors, how a passage is shown. */

export const sectionName = z
  .string()
  .trim()
  .min(1, "a section name is required when given; list_sections shows them")
  .max(100, "section names are at most 100 characters")
  .regex(/^[^\p{Cc}]+$/u, "section names may not contain control characters");

/** A text argument the store can hold (PostgreSQL refuses NUL): `what` names it in the message. */
export const storableText = (schema: z.ZodString, what: string) =>
  schema.refine((text) => !hasControlCharacters(text), `${what} may not contain control characters (other than tabs and line breaks)`);

export const documentId = z.string().uuid("id is a document id as search_docs or list_sections give it, e.g. 1b4e28ba-2fa1-41d2-883f-0016d3cca427");

export const topN = (max: number, fallback: number) =>
  z
    .number({ error: `top_n is a whole number from 1 to ${max}` })
    .int(`top_n is a whole number from 1 to ${max}`)
    .min(1, `top_n is a whole number from 1 to ${max}`)
    .max(max, `top_n is at most ${max}: ask for fewer passages, or narrow the question with section`)
    .optional()
    .describe(`How many passages to use, 1 to ${max} (default ${fallback}).`);

/** Runs a knowledge-base call, turning what the caller can fix into a ToolError (an isError result that says how). */
export async function userFacing<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof DocsError) throw new ToolError(error.message);
    throw error;
  }
}

/** About `length` characters of a passage around the first word of the query it contains (its start if none). */
export function snippet(body: string, query: string, length = 300): string {
  const lower = body.toLowerCase();
  const words = (query.toLowerCase().match(/[\p{L}\p{N}_]{3,}/gu) ?? []).slice(0, 20);
  const positions = words.map((word) => lower.indexOf(word)).filter((at) => at >= 0);
  const first = positions.length > 0 ? Math.min(...positions) : 0;
  const start = Math.max(0, Math.min(first - Math.floor(length / 3), body.length - length));
  const piece = body
    .slice(start, start + length)
    .replace(/\s+/g, " ")
    .trim();
  return redactWindow(`${start > 0 ? "…" : ""}${piece}${start + length < body.length ? "…" : ""}`);
}

export function where(hit: Pick<SearchHit, "title" | "heading">): string {
  return hit.heading ? `${hit.title} › ${hit.heading}` : hit.title;
}

/** A search hit as structured data: what a client (or its model) needs to cite or open it. */
export function hitData(hit: SearchHit, query: string) {
  return {
    id: hit.documentId,
    chunk: hit.ord,
    title: hit.title,
    section: hit.section,
    heading: hit.heading,
    source: hit.source,
    snippet: snippet(hit.body, query),
    score: Number(hit.score.toFixed(5)),
    similarity: hit.similarity === null ? null : Number(hit.similarity.toFixed(4)),
    keywordRank: hit.keywordRank,
  };
}
