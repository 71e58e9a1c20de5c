import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { API_TOKEN, type ApiStack, startApiStack } from "../support/apiStack.js";
import type { ChatCall, Reply } from "../support/ollamaStandIn.js";

/**
 * The real Claude Code CLI against the server, in print mode, the way its users point it at a
 * gateway: ANTHROPIC_BASE_URL and ANTHROPIC_AUTH_TOKEN. Not part of a normal run (the CLI is a
 * 400 MB download): install it outside the project and name its binary, e.g.
 *   npm i --prefix /tmp/claude-code @anthropic-ai/claude-code
 *   CLAUDE_CODE_BIN=/tmp/claude-code/node_modules/.bin/claude npx vitest run test/e2e/claudeCode.test.ts
 * It runs offline: a HOME of its own, no telemetry, no update check, no other traffic.
 */

const BIN = process.env.CLAUDE_CODE_BIN ?? "";
if (!BIN) console.warn("SKIPPED the Claude Code CLI test: set CLAUDE_CODE_BIN to the `claude` binary (see test/e2e/claudeCode.test.ts)");

function claude(stack: ApiStack, prompt: string, model: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const home = mkdtempSync(join(tmpdir(), "mcp-lab-claude-home-"));
  const work = mkdtempSync(join(tmpdir(), "mcp-lab-claude-work-"));
  const env = {
    PATH: process.env.PATH,
    HOME: home,
    ANTHROPIC_BASE_URL: stack.server.url,
    ANTHROPIC_AUTH_TOKEN: API_TOKEN,
    DISABLE_TELEMETRY: "1",
    DISABLE_AUTOUPDATER: "1",
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
  };
  return new Promise((resolve) => {
    const child = spawn(BIN, ["-p", prompt, "--model", model, "--allowedTools", "Bash"], { cwd: work, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
    child.once("exit", (code) => {
      rmSync(home, { recursive: true, force: true });
      rmSync(work, { recursive: true, force: true });
      resolve({ code, stdout, stderr });
    });
  });
}

/** First a Bash tool call that prints a marker, then the answer quoting what the tool returned. */
function runMarker(call: ChatCall): Reply {
  const last = call.messages.at(-1);
  const text = typeof last?.content === "string" ? last.content : JSON.stringify(last?.content ?? "");
  if (last?.role === "tool" || text.includes("[tool_result"))
    return { content: `The command printed: ${text.includes("mcp-lab-marker-42") ? "mcp-lab-marker-42" : "something else"}` };
  return {
    thinking: "I will run it.",
    content: "Running it.",
    toolCalls: [{ name: "Bash", arguments: { command: "echo mcp-lab-marker-42", description: "Print the marker" } }],
  };
}

describe.skipIf(!BIN || !existsSync(BIN))("Claude Code itself on local and cloud models through mcp-lab", () => {
  let stack: ApiStack;
  beforeAll(async () => {
    stack = await startApiStack({ MODEL_ALIASES: "claude-*haiku*=qwen3:4b", MAX_PROMPT_CHARS: "1000000", MAX_BODY_BYTES: "8388608" });
    stack.ollama.models.push({ ...stack.ollama.models[0]!, name: "qwen3-coder:30b" });
    stack.ollama.reply = runMarker;
    stack.cloud.reply = runMarker;
  });
  afterAll(() => stack.stop());

  it.each([
    ["qwen3-coder:30b", "/v1/messages"],
    ["openai/gpt-4o-mini", "/v1/chat/completions"],
  ])(
    "runs a Bash tool and answers with %s (upstream %s)",
    async (model, path) => {
      const result = await claude(stack, "Run the marker command with Bash and tell me what it printed.", model);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toContain("The command printed: mcp-lab-marker-42");
      const standIn = model.startsWith("openai/") ? stack.cloud : stack.ollama;
      expect(standIn.requests.filter((r) => r.path === path).length).toBeGreaterThanOrEqual(2);
      expect(stack.apiLogs().filter((l) => l.route === "messages" && l.outcome === "ok").length).toBeGreaterThanOrEqual(2);
    },
    120_000,
  );
});
