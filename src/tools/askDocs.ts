import { z } from "zod";
import type { GatewayResult, LlmGateway } from "../llm/gateway/gateway.js";
import type { ChatMessage } from "../llm/types.js";
import type { KnowledgeBase } from "../services/docs/knowledge.js";
import type { JobRunner } from "../services/jobs.js";
import type { SearchHit } from "../state/documentSearch.js";
import { hitData, sectionName, storableText, topN, userFacing, where } from "./docsCommon.js";
import { background, runAsJob, seconds } from "./handOff.js";
import { capOutput } from "./output.js";
import { modelName } from "./schemas.js";
import { streamedChat } from "./streamedChat.js";
import { refuseLongPrompt, type ToolDefinition, type ToolOutput } from "./tool.js";

export type AskDocsDeps = {
  knowledge: KnowledgeBase;
  gateway: LlmGateway;
  jobs: JobRunner;
  defaultModel: string;
  maxOutputChars: number;
  maxPromptChars: number;
  progressIntervalMs: number;
};

const parameters = z.object({
  question: storableText(
    z
      .string()
      .trim()
      .min(1, "question must not be empty: ask what you want to know from your documents")
      .max(4_000, "question is at most 4,000 characters: ask one thing at a time"),
    "question",
  ).describe("What you want to know from your documents."),
  model: modelName
    .optional()
    .describe("The model that writes the answer (default: the server's LLM_MODEL). A local Ollama model keeps your documents on your machine."),
  top_n: topN(20, 6),
  section: sectionName.optional().describe("Only use this section's documents (list_sections shows them)."),
  background,
});

/** What the model says when the passages do not hold the answer; never shown as it is. */
const NOT_FOUND = "NOT_IN_DOCUMENTS";

const SYSTEM = `You answer questions from the user's own documents. Below the question are numbered passages from them.
Rules:
- Use only what the passages say. Do not add outside knowledge, and do not guess.
- After each statement, cite the passages it comes from by number in square brackets, e.g. [1] or [2][3].
- If the passages do not contain the answer, reply with exactly ${NOT_FOUND} and nothing else.
- Answer in the language of the question, briefly.`;

/** The passages as numbered sources, as many as fit in `budget` characters (the best first). */
function sourcesPrompt(hits: SearchHit[], budget: number): { text: string; used: SearchHit[] } {
  const parts: string[] = [];
  const used: SearchHit[] = [];
  let size = 0;
  for (const hit of hits) {
    const part = `[${used.length + 1}] ${where(hit)} (section ${hit.section})\n${hit.body}`;
    if (size + part.length > budget && used.length > 0) break;
    parts.push(part.slice(0, budget));
    used.push(hit);
    size += part.length + 2;
  }
  return { text: parts.join("\n\n"), used };
}

export function askDocsTool(deps: AskDocsDeps): ToolDefinition<typeof parameters> {
  return {
    name: "ask_docs",
    description: `Answers a question from the user's own documents: finds the passages that match it (search_docs), then has a model answer only from them, citing each passage it used as [n] with the document's title and id. Says plainly when the documents do not contain the answer. With a local model (LOCAL_ONLY, or an Ollama model), nothing leaves the user's machines. A slow answer (still being written after ${seconds(deps.jobs.waitCapMs)} s) comes back as a job_id instead: call get_job with it to collect the answer, without asking the user.`,
    parameters,
    annotations: { title: "Ask your documents", readOnlyHint: true, openWorldHint: true },
    run: async (args, context, record) => {
      refuseLongPrompt(deps.maxPromptChars, args.question);
      const target = deps.gateway.resolve(args.model ?? deps.defaultModel);
      Object.assign(record, { provider: target.provider.name, model: target.qualifiedName });
      const owner = context.caller.id;
      const found = await userFacing(() =>
        deps.knowledge.search({ query: args.question, topN: args.top_n ?? 6, section: args.section, owner, signal: context.signal }),
      );
      if (found.hits.length === 0) {
        const answer = `Your documents do not contain anything that matches this question${args.section ? ` in section ${args.section}` : ""}, so there is no answer from them.`;
        return {
          text: [answer, ...found.notes.map((n) => `— ${n}`)].join("\n"),
          structured: { answer, found: false, sources: [], model: null, notes: found.notes },
        };
      }
      const { text: sources, used } = sourcesPrompt(found.hits, deps.maxPromptChars - SYSTEM.length - args.question.length - 100);
      const messages: ChatMessage[] = [
        { role: "system", content: SYSTEM },
        { role: "user", content: `Passages:\n\n${sources}\n\nQuestion: ${args.question}` },
      ];
      return runAsJob(deps.jobs, { tool: "ask_docs", model: target.qualifiedName, background: args.background, context }, async (job) => {
        const { result, latencyMs } = await streamedChat(
          deps.gateway,
          target,
          { messages, temperature: 0, signal: job.signal, owner, maxAnswerChars: deps.maxOutputChars },
          job,
          { heartbeatMs: deps.progressIntervalMs, waiting: "reading the passages…" },
        );
        Object.assign(record, {
          provider: result.provider,
          model: result.qualifiedName,
          promptTokens: result.promptTokens,
          completionTokens: result.completionTokens,
        });
        return present(result, used, args.question, { notes: found.notes, latencyMs, maxChars: deps.maxOutputChars });
      });
    },
  };
}

/** The answer with its sources: those it cited, then the others it was given; or, plainly, that the documents do not say. */
function present(result: GatewayResult, used: SearchHit[], question: string, shown: { notes: string[]; latencyMs: number; maxChars: number }): ToolOutput {
  const raw = result.text.trim();
  const found = !raw.includes(NOT_FOUND) && raw.length > 0;
  const cited = new Set([...raw.matchAll(/\[(\d{1,2})\]/g)].map((m) => Number(m[1])).filter((n) => n >= 1 && n <= used.length));
  const answer = found
    ? capOutput(raw, shown.maxChars).text
    : "Your documents do not contain the answer to this question. The closest passages are listed below; none of them answers it.";
  const sources = used.map((hit, i) => ({ number: i + 1, cited: cited.has(i + 1), ...hitData(hit, question) }));
  const list = sources.map((s) => `[${s.number}] ${where(s)} · id ${s.id}${found ? (s.cited ? "" : " (given, not cited)") : ""}`);
  const lines = [answer, "", found ? "Sources:" : "Closest passages:", ...list];
  if (found && cited.size === 0) lines.push("— the model cited no passage: check the answer against the sources above");
  const tokens = `${result.promptTokens ?? "?"} in / ${result.completionTokens ?? "?"} out tokens`;
  lines.push(`— ${result.qualifiedName} (${result.provider}) · ${tokens} · ${shown.latencyMs} ms`);
  for (const fallback of result.fellBackFrom) lines.push(`— answered by ${result.qualifiedName} because ${fallback.model} failed: ${fallback.reason}`);
  for (const note of shown.notes) lines.push(`— ${note}`);
  return {
    text: lines.join("\n"),
    structured: {
      answer,
      found,
      sources,
      model: result.qualifiedName,
      provider: result.provider,
      promptTokens: result.promptTokens ?? null,
      completionTokens: result.completionTokens ?? null,
      latencyMs: shown.latencyMs,
      notes: shown.notes,
    },
  };
}
