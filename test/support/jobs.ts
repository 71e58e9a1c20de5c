import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { expect } from "vitest";
import { type ChatCall, lastUserMessage, type OllamaStandIn } from "./ollamaStandIn.js";
import type { ToolResult } from "./server.js";
import { HANG_GUARD_MS, until } from "./wait.js";

/** What the clients do: give up on a call after 5 s, whatever progress arrives. */
export const CLIENT_TIMEOUT_MS = 5_000;

/**
 * A tool call from a client whose request timeout is shorter than a slow generation and is not
 * reset by progress notifications (the SDK's default, as in several clients).
 */
export async function patientCall(
  client: Client,
  name: string,
  args: Record<string, unknown>,
  onProgress?: (message: string) => void,
  timeoutMs = CLIENT_TIMEOUT_MS,
): Promise<ToolResult & { text: string }> {
  const result = (await client.callTool({ name, arguments: args }, undefined, {
    timeout: timeoutMs,
    resetTimeoutOnProgress: false,
    ...(onProgress && { onprogress: (progress: { message?: string }) => onProgress(progress.message ?? "") }),
  })) as ToolResult;
  return { ...result, text: result.content.map((c) => c.text ?? "").join("") };
}

/** The job id a handed-off result carries (and that it is a successful result saying what to do). */
export function handedOff(result: ToolResult & { text: string }): string {
  expect(result.isError, result.text).toBeFalsy();
  const id = result.structuredContent?.jobId;
  expect(typeof id, result.text).toBe("string");
  expect(result.text).toContain(`Call get_job with job_id "${id as string}"`);
  return id as string;
}

export const chatRequests = (ollama: OllamaStandIn) => ollama.chats().map((r) => r.body as ChatCall);

/** Waits until the stand-in has seen the model request for `prompt` closed by the server (bounded: a hang fails). */
export async function untilAborted(ollama: OllamaStandIn, prompt: string, timeoutMs = HANG_GUARD_MS): Promise<void> {
  const request = () => ollama.chats().find((r) => lastUserMessage(r.body as ChatCall) === prompt);
  await until(() => request()?.abortedAt !== undefined, `the model request for "${prompt}" to be aborted`, timeoutMs);
}

/** What a calling model does with a job id: get_job again while the job is running (bounded: a job that never ends fails). */
export async function collectJob(client: Client, jobId: string, attempts = 100, timeoutMs = CLIENT_TIMEOUT_MS): Promise<ToolResult & { text: string }> {
  for (let i = 0; ; i++) {
    const result = await patientCall(client, "get_job", { job_id: jobId }, undefined, timeoutMs);
    if (result.structuredContent?.state !== "running" || result.isError) return result;
    expect(i, `job ${jobId} still running after ${attempts} get_job calls`).toBeLessThan(attempts);
  }
}

/** get_job (short waits) until the job's progress matches `pattern`; the progress notifications seen meanwhile. Bounded. */
export async function untilProgress(
  client: Client,
  jobId: string,
  pattern: RegExp,
  attempts = 100,
): Promise<{ result: ToolResult & { text: string }; notified: string[] }> {
  const notified: string[] = [];
  for (let i = 0; ; i++) {
    const result = await patientCall(client, "get_job", { job_id: jobId, wait_seconds: 0.1 }, (message) => notified.push(message));
    if (pattern.test(String(result.structuredContent?.progress))) return { result, notified };
    expect(i, `job ${jobId} never showed progress ${pattern}: ${result.text}`).toBeLessThan(attempts);
  }
}

/**
 * Opens the server's state store (list_jobs reads it) with a patient call, so that the first
 * hand-off of a test does not also pay for opening the store against a 5 s client timeout.
 */
export async function openStore(client: Client): Promise<void> {
  const listed = (await client.callTool({ name: "list_jobs", arguments: {} }, undefined, { timeout: 60_000 })) as ToolResult;
  expect(listed.isError, JSON.stringify(listed.content)).toBeFalsy();
}
