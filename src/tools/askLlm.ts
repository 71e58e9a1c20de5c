import { z } from "zod";
import type { GatewayResult, LlmGateway } from "../llm/gateway/gateway.js";
import type { ResolvedModel } from "../llm/gateway/router.js";
import type { ChatMessage } from "../llm/types.js";
import type { JobRunner, JobWorkContext } from "../services/jobs.js";
import type { Conversation, ConversationStore } from "../state/conversations.js";
import { StateError } from "../state/db.js";
import { background, runAsJob, seconds } from "./handOff.js";
import { capOutput } from "./output.js";
import { maxTokens, modelName, temperature, think } from "./schemas.js";
import { streamedChat } from "./streamedChat.js";
import { type CallRecord, refuseLongPrompt, type ToolDefinition, ToolError, type ToolOutput } from "./tool.js";

export type AskLlmDeps = {
  gateway: LlmGateway;
  conversations: ConversationStore;
  jobs: JobRunner;
  defaultModel: string;
  maxOutputChars: number;
  maxPromptChars: number;
  progressIntervalMs: number;
};

const parameters = z.object({
  prompt: z.string().min(1, "prompt must not be empty").describe("The question or instruction for the model."),
  model: modelName
    .optional()
    .describe(
      "Model to ask. A bare Ollama name (qwen3:4b, gemma3:12b, deepseek-r1:14b) runs locally; prefix openai/ for a cloud model (openai/gpt-4o-mini). Omit for the server's default (LLM_MODEL). Call list_models to see what is available.",
    ),
  system: z.string().optional().describe("Optional system prompt that sets the model's role or rules."),
  temperature: temperature.optional(),
  max_tokens: maxTokens.optional(),
  think: think.optional(),
  show_thinking: z
    .boolean()
    .optional()
    .describe("Also return the model's reasoning trace (in the text and in structuredContent.thinking). Off by default: reasoning is kept out of the result."),
  num_ctx: z
    .number()
    .int()
    .min(256)
    .max(1_048_576)
    .optional()
    .describe("Ollama only: context window in tokens (Ollama's default is small, e.g. 4096). Larger costs memory."),
  keep_alive: z
    .union([z.string().regex(/^-?\d+(\.\d+)?(ms|s|m|h)?$/, 'a duration such as "10m", "1h", "0" or "-1"'), z.number()])
    .optional()
    .describe('Ollama only: how long the model stays loaded after this call, e.g. "30m"; 0 unloads it at once, -1 keeps it loaded.'),
  conversation_id: z
    .string()
    .uuid("conversation_id is the id a previous ask_llm reply gave")
    .optional()
    .describe("Continue an earlier conversation: pass the conversation_id from the previous reply. Omit to start a new one."),
  background,
});

function footer(result: GatewayResult, latencyMs: number, conversation: Saved, omittedTurns: number): string {
  const tokens = `${result.promptTokens ?? "?"} in / ${result.completionTokens ?? "?"} out tokens`;
  const firstToken = result.timeToFirstTokenMs === undefined ? "" : ` · first token ${result.timeToFirstTokenMs} ms`;
  const lines = [`— ${result.qualifiedName} (${result.provider}) · ${tokens}${firstToken} · ${latencyMs} ms`];
  for (const fallback of result.fellBackFrom) lines.push(`— answered by ${result.qualifiedName} because ${fallback.model} failed: ${fallback.reason}`);
  for (const adjustment of result.adjustments) lines.push(`— ${adjustment}`);
  if (omittedTurns > 0) lines.push(`— the ${omittedTurns} oldest turn(s) of this conversation were left out to stay within MAX_PROMPT_CHARS`);
  if (conversation.unsaved) lines.push(`— this turn could not be saved, so it cannot be continued: ${conversation.unsaved}`);
  else lines.push(`— conversation_id: ${conversation.id} (pass it to continue this conversation)`);
  return lines.join("\n");
}

export function askLlmTool(deps: AskLlmDeps): ToolDefinition<typeof parameters> {
  return {
    name: "ask_llm",
    description: `Sends a prompt to one language model (a local Ollama model or an OpenAI-compatible cloud model) and returns its answer with the model, provider, token counts and latency. Reasoning is kept out of the answer (set show_thinking to see it). Pass the returned conversation_id to continue a conversation. A slow answer (still being written after ${seconds(deps.jobs.waitCapMs)} s) comes back as a job_id instead: call get_job with it to collect the answer, without asking the user.`,
    parameters,
    annotations: { title: "Ask a language model", readOnlyHint: true, openWorldHint: true },
    run: async (args, context, record) => {
      const owner = context.caller.id;
      const conversation = args.conversation_id ? await deps.conversations.get(args.conversation_id, owner) : deps.conversations.start(owner);
      if (!conversation)
        throw new ToolError(`Conversation ${args.conversation_id} is unknown or has expired (CONVERSATION_TTL_MS). Omit conversation_id to start a new one.`);
      refuseLongPrompt(deps.maxPromptChars, args.prompt, args.system);
      const target = deps.gateway.resolve(args.model ?? deps.defaultModel);
      record.provider = target.provider.name;
      record.model = target.model;
      const user: ChatMessage = { role: "user", content: args.prompt };
      const history = deps.conversations.history(conversation, deps.maxPromptChars - args.prompt.length - (args.system?.length ?? 0));
      const messages: ChatMessage[] = [...(args.system ? [{ role: "system" as const, content: args.system }] : []), ...history.messages, user];
      const prepared: Prepared = { args, target, messages, user, conversation, omittedTurns: history.omitted, owner };
      return runAsJob(deps.jobs, { tool: "ask_llm", model: target.qualifiedName, background: args.background, context }, (job) =>
        generate(deps, prepared, job, record),
      );
    },
  };
}

type Prepared = {
  args: z.infer<typeof parameters>;
  target: ResolvedModel;
  messages: ChatMessage[];
  user: ChatMessage;
  conversation: Conversation;
  omittedTurns: number;
  owner: string;
};

/** The model call and everything after it: what runs in the background once the call is handed off. */
async function generate(deps: AskLlmDeps, prepared: Prepared, job: JobWorkContext, record: CallRecord): Promise<ToolOutput> {
  const { args, target, messages, user, conversation } = prepared;
  const { result, latencyMs } = await streamedChat(
    deps.gateway,
    target,
    {
      messages,
      temperature: args.temperature,
      maxTokens: args.max_tokens,
      think: args.think,
      numCtx: args.num_ctx,
      keepAlive: args.keep_alive,
      signal: job.signal,
      owner: prepared.owner,
      maxAnswerChars: deps.maxOutputChars,
    },
    job,
    { heartbeatMs: deps.progressIntervalMs, waiting: "thinking…" },
  );
  Object.assign(record, {
    provider: result.provider,
    model: result.qualifiedName,
    promptTokens: result.promptTokens,
    completionTokens: result.completionTokens,
  });
  const answer = capOutput(result.text, deps.maxOutputChars);
  // The answer is what the caller waited for: a store that fails now costs the conversation, not the answer.
  const saved: Saved = await deps.conversations.record(conversation, user, { role: "assistant", content: answer.text }).catch((error: unknown) => {
    if (!(error instanceof StateError)) throw error;
    return { ...conversation, unsaved: error.message };
  });
  return present(result, {
    answer,
    showThinking: args.show_thinking ?? false,
    latencyMs,
    saved,
    omittedTurns: prepared.omittedTurns,
    maxChars: deps.maxOutputChars,
  });
}

type Saved = Conversation & { unsaved?: string };

type Presented = {
  answer: { text: string; truncated: boolean };
  showThinking: boolean;
  latencyMs: number;
  saved: Saved;
  omittedTurns: number;
  maxChars: number;
};

/** The result as the caller sees it: the answer (with the reasoning only when asked for), a footer, the same as structured data. */
function present(result: GatewayResult, shown: Presented): ToolOutput {
  const { answer, latencyMs, saved, omittedTurns, maxChars } = shown;
  const thinking = shown.showThinking && result.thinking ? capOutput(result.thinking, maxChars).text : undefined;
  const text = thinking ? capOutput(`<thinking>\n${result.thinking}\n</thinking>\n\n${result.text}`, maxChars).text : answer.text;
  return {
    text: `${text}\n\n${footer(result, latencyMs, saved, omittedTurns)}`,
    structured: {
      answer: answer.text,
      // Clients hand structuredContent to their model (OpenAI Agents, LangChain): reasoning only when asked for.
      ...(thinking !== undefined && { thinking }),
      model: result.qualifiedName,
      provider: result.provider,
      promptTokens: result.promptTokens ?? null,
      completionTokens: result.completionTokens ?? null,
      latencyMs,
      timeToFirstTokenMs: result.timeToFirstTokenMs ?? null,
      finishReason: result.finishReason ?? null,
      truncated: answer.truncated,
      retries: result.retries,
      fellBackFrom: result.fellBackFrom,
      adjustments: result.adjustments,
      conversationId: saved.unsaved ? null : saved.id,
      turns: saved.turns.length,
      turnsDropped: saved.dropped,
      turnsOmitted: omittedTurns,
    },
  };
}
