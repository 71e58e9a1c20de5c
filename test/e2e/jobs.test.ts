import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { CallToolResultSchema } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { chatRequests, collectJob, handedOff, openStore, patientCall, untilAborted, untilProgress } from "../support/jobs.js";
import type { OllamaStandIn } from "../support/ollamaStandIn.js";
import { connectClient, type Stack, startWithStandIn, type TransportKind } from "../support/server.js";

const TOKEN_A = "token-a-0123456789abcdef";
const TOKEN_B = "token-b-0123456789abcdef";
const as = (token: string) => ({ authorization: `Bearer ${token}` });

/**
 * The hand-off on the HTTP transports, with the official client whose request timeout (5 s) is
 * shorter than the generation and is not reset by progress: the stand-in holds its answer until
 * the test lets it go, so the generation lasts exactly as long as the test needs.
 */
describe.each<TransportKind>(["streamable-http", "sse"])("answers that outlive the client's timeout, over %s", (kind) => {
  let stack: Stack;
  let ollama: OllamaStandIn;
  let client: Client;
  let other: Client;
  let echo: OllamaStandIn["reply"];

  beforeAll(async () => {
    stack = await startWithStandIn({ ASYNC_AFTER_MS: "300", MCP_AUTH_TOKEN: `${TOKEN_A},${TOKEN_B}`, JOB_MAX_RUNNING_PER_TOKEN: "3" }, kind, as(TOKEN_A));
    ({ ollama, client } = stack);
    echo = ollama.reply;
    other = await connectClient(stack.server.url, kind, as(TOKEN_B));
    await openStore(client);
  });
  afterEach(() => {
    ollama.reset();
    ollama.reply = echo;
  });
  afterAll(async () => {
    await other.close();
    await stack.stop();
  });

  it("offers no MCP Tasks (fastmcp cannot serve them), so clients use the hand-off", async () => {
    expect(client.getServerCapabilities()).not.toHaveProperty("tasks");
    const { tools } = await client.listTools();
    expect(tools.filter((tool) => "execution" in tool)).toEqual([]);
    const getJob = tools.find((tool) => tool.name === "get_job")!;
    expect(getJob.description).toContain("call get_job with that job_id right away, without asking the user");
    expect(tools.find((tool) => tool.name === "ask_llm")!.description).toContain("comes back as a job_id instead: call get_job with it");
    // A client that sends a task anyway gets an error, not a hang.
    const taskCall = client.request({ method: "tools/call", params: { name: "add", arguments: { a: 1, b: 2 }, task: { ttl: 60_000 } } }, CallToolResultSchema, {
      timeout: 5_000,
    });
    await expect(taskCall).rejects.toThrow("Server does not support task creation (required for tools/call)");
  });

  it("hands a slow answer over as a job, then gives the whole answer through get_job", async () => {
    const answers = ollama.holdAnswers(2);
    ollama.reply = () => ({ content: "one two three four five" });
    const first = await patientCall(client, "ask_llm", { prompt: "take your time" });
    const job = handedOff(first);
    expect(first.text).toContain("The answer is still being written");
    expect(first.text).toContain(`Call get_job with job_id "${job}"`);
    expect(first.structuredContent).toMatchObject({ state: "running", tool: "ask_llm", model: "qwen3:4b", next: "get_job" });

    // Still running: get_job says so, with how far it is, and reports progress while it waits.
    const { result: waiting, notified } = await untilProgress(client, job, /qwen3:4b: \d+ chars: one/);
    expect(waiting.isError).toBeFalsy();
    expect(waiting.structuredContent).toMatchObject({ jobId: job, state: "running", model: "qwen3:4b" });
    expect(waiting.text).toContain("is still running");
    expect(notified.some((message) => /chars: one/.test(message))).toBe(true);

    const listed = await patientCall(client, "list_jobs", {});
    expect(listed.structuredContent!.jobs).toEqual([expect.objectContaining({ jobId: job, state: "running", tool: "ask_llm", model: "qwen3:4b" })]);

    answers.open();
    const answer = await collectJob(client, job);
    expect(answer.isError, answer.text).toBeFalsy();
    expect(answer.text).toMatch(/^one two three four five\n\n— qwen3:4b \(ollama\) · \d+ in \/ 5 out tokens/);
    expect(answer.text).toContain("(pass it to continue this conversation)");
    expect(answer.structuredContent).toMatchObject({ answer: "one two three four five", model: "qwen3:4b", provider: "ollama", completionTokens: 5, turns: 1 });
    // The same shape, key for key and in order, as an answer given in the call itself.
    const direct = await patientCall(client, "ask_llm", { prompt: "direct" });
    const inCall = direct.structuredContent?.jobId ? await collectJob(client, direct.structuredContent.jobId as string) : direct;
    expect(Object.keys(answer.structuredContent!)).toEqual(Object.keys(inCall.structuredContent!));

    // The turn was recorded as it would have been: the conversation goes on from it.
    ollama.reply = (call) => ({ content: `heard ${call.messages.length} messages` });
    const next = await patientCall(client, "ask_llm", { prompt: "and then?", conversation_id: answer.structuredContent!.conversationId });
    expect(next.text).toContain("heard 3 messages");
    expect(
      chatRequests(ollama)
        .at(-1)!
        .messages.map((m) => m.content),
    ).toEqual(["take your time", "one two three four five", "and then?"]);
  });

  it("goes on with a handed-off job when the client that started it goes away", async () => {
    const answers = ollama.holdAnswers(0);
    const leaving = await connectClient(stack.server.url, kind, as(TOKEN_A));
    const job = handedOff(await patientCall(leaving, "compare_models", { prompt: "race", models: ["qwen3:4b", "gemma3:12b"] }));
    await leaving.close();
    answers.open();
    const table = await collectJob(client, job);
    expect(table.isError).toBeFalsy();
    expect(table.text).toContain("| qwen3:4b | ollama |");
    expect(table.text).toContain("Echo from gemma3:12b: race");
    expect(table.structuredContent).toMatchObject({ prompt: "race", results: [expect.objectContaining({ ok: true }), expect.objectContaining({ ok: true })] });
    expect(chatRequests(ollama).length).toBe(2);
    expect(ollama.requests.filter((r) => r.abortedAt !== undefined)).toEqual([]);
  });

  it("cancel_job aborts the model request; a second cancel removes the job", async () => {
    ollama.holdAnswers(1);
    ollama.reply = () => ({ content: "never finished" });
    const job = handedOff(await patientCall(client, "ask_llm", { prompt: "cancel me" }));
    const cancelled = await patientCall(client, "cancel_job", { job_id: job });
    expect(cancelled.structuredContent).toMatchObject({ jobId: job, state: "cancelled", action: "stopped" });
    expect(cancelled.text).toContain("the model request was stopped");
    await untilAborted(ollama, "cancel me");
    const after = await collectJob(client, job);
    expect(after.isError).toBeFalsy();
    expect(after.text).toContain("is cancelled: Stopped by cancel_job");
    const removed = await patientCall(client, "cancel_job", { job_id: job });
    expect(removed.structuredContent).toMatchObject({ action: "removed" });
    expect((await collectJob(client, job)).text).toContain(`No job ${job}`);
  });

  it("keeps a job to the token that started it: another token cannot see, collect or cancel it", async () => {
    const answers = ollama.holdAnswers(0);
    const job = handedOff(await patientCall(client, "ask_llm", { prompt: "mine", background: true }));
    const unknown = "00000000-0000-4000-8000-000000000000";
    const notFound = (id: string) => `No job ${id}: it does not exist, it has expired (finished jobs are kept for JOB_TTL_MS), or it belongs to another token.`;
    const seen = await patientCall(other, "get_job", { job_id: job, wait_seconds: 0 });
    expect(seen.isError).toBe(true);
    expect(seen.text).toContain(notFound(job));
    expect((await patientCall(other, "get_job", { job_id: unknown, wait_seconds: 0 })).text).toContain(notFound(unknown));
    const cancel = await patientCall(other, "cancel_job", { job_id: job });
    expect(cancel.isError).toBe(true);
    expect(cancel.text).toContain(notFound(job));
    expect((await patientCall(other, "list_jobs", {})).structuredContent).toEqual({ jobs: [] });
    answers.open();
    expect((await collectJob(client, job)).text).toContain("Echo from qwen3:4b: mine");
    expect(ollama.requests.filter((r) => r.abortedAt !== undefined)).toEqual([]);
  });

  it("says which cap a job is over", async () => {
    const answers = ollama.holdAnswers(0);
    const jobs = [];
    for (let i = 0; i < 3; i++) jobs.push(handedOff(await patientCall(client, "ask_llm", { prompt: `cap ${i}`, background: true })));
    const refused = await patientCall(client, "ask_llm", { prompt: "one too many", background: true });
    expect(refused.isError).toBe(true);
    expect(refused.text).toContain("You already have 3 jobs running, the most one token may have (JOB_MAX_RUNNING_PER_TOKEN=3)");
    // The cap is per token: the other token still has room.
    handedOff(await patientCall(other, "ask_llm", { prompt: "theirs", background: true }));
    answers.open();
    for (const job of jobs) expect((await collectJob(client, job)).isError).toBeFalsy();
  });
});
