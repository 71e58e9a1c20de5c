import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { startChildServer, stopChild } from "../scale/support.js";
import { collectJob, handedOff, openStore, patientCall, untilAborted, untilProgress } from "../support/jobs.js";
import { OllamaStandIn } from "../support/ollamaStandIn.js";
import { type PostgresServer, postgresBin, startPostgres } from "../support/postgres.js";
import { connectClient, startTestServer, type TestServer } from "../support/server.js";
import { childEnv, ENTRY } from "../support/spawn.js";
import { freshDataDir, removeDataDir } from "../support/state.js";

const TOKEN_A = "token-a-0123456789abcdef";
const TOKEN_B = "token-b-0123456789abcdef";
const as = (token: string) => ({ authorization: `Bearer ${token}` });
/** Jobs hand off after 300 ms and beat every 100 ms, so a dead process shows within about 1.3 s. */
const JOBS = { ASYNC_AFTER_MS: "300", JOB_HEARTBEAT_MS: "100", MCP_AUTH_TOKEN: `${TOKEN_A},${TOKEN_B}` };

let ollama: OllamaStandIn;
let echo: OllamaStandIn["reply"];
beforeAll(async () => {
  ollama = await new OllamaStandIn().start();
  echo = ollama.reply;
});
afterEach(() => {
  ollama.reset();
  ollama.reply = echo;
});
afterAll(() => ollama.stop());

describe("jobs over stdio", () => {
  it("hands a slow answer over, gives it through get_job, and cancel_job aborts the model request", async () => {
    const env = childEnv({ OLLAMA_BASE_URL: ollama.baseUrl, ASYNC_AFTER_MS: "300" }) as Record<string, string>;
    const transport = new StdioClientTransport({ command: process.execPath, args: [...ENTRY, "--stdio"], env, stderr: "pipe" });
    const client = new Client({ name: "mcp-lab-test", version: "1.0.0" });
    await client.connect(transport);
    try {
      await openStore(client);
      const answers = ollama.holdAnswers(1);
      ollama.reply = () => ({ content: "slow and steady" });
      const job = handedOff(await patientCall(client, "ask_llm", { prompt: "over stdio" }));
      answers.open();
      const answer = await collectJob(client, job);
      expect(answer.text).toMatch(/^slow and steady\n\n— qwen3:4b \(ollama\)/);
      expect(answer.structuredContent).toMatchObject({ answer: "slow and steady", model: "qwen3:4b" });

      ollama.holdAnswers(1);
      const doomed = handedOff(await patientCall(client, "ask_llm", { prompt: "stop over stdio" }));
      expect((await patientCall(client, "cancel_job", { job_id: doomed })).structuredContent).toMatchObject({ state: "cancelled" });
      await untilAborted(ollama, "stop over stdio");
    } finally {
      await client.close();
    }
  });
});

describe.skipIf(!postgresBin())("jobs across two replicas on one PostgreSQL", () => {
  let postgres: PostgresServer;
  let replicas: TestServer[];
  let onFirst: Client;
  let onSecond: Client;
  let otherToken: Client;

  beforeAll(async () => {
    postgres = await startPostgres();
    // As replicas are deployed: stateless streamable HTTP (legacy SSE keeps its stream either way).
    // One after the other: an in-process start swaps http.createServer for its duration.
    replicas = [];
    for (let i = 0; i < 2; i++)
      replicas.push(await startTestServer({ OLLAMA_BASE_URL: ollama.baseUrl, DATABASE_URL: postgres.url, MCP_STATELESS: "true", ...JOBS }));
    onFirst = await connectClient(replicas[0]!.url, "streamable-http", as(TOKEN_A));
    onSecond = await connectClient(replicas[1]!.url, "sse", as(TOKEN_A));
    otherToken = await connectClient(replicas[1]!.url, "streamable-http", as(TOKEN_B));
    for (const client of [onFirst, onSecond]) await openStore(client);
  }, 30_000);
  afterAll(async () => {
    for (const client of [onFirst, onSecond, otherToken]) await client?.close();
    for (const replica of replicas ?? []) await replica.shutdown("test over");
    await postgres?.stop();
  }, 30_000);

  it("collects through one replica a job started on the other, with its progress, and continues its conversation there", async () => {
    const answers = ollama.holdAnswers(2);
    ollama.reply = () => ({ content: "alpha beta gamma delta" });
    const job = handedOff(await patientCall(onFirst, "ask_llm", { prompt: "started on the first" }));
    const { result: running, notified } = await untilProgress(onSecond, job, /qwen3:4b: \d+ chars: alpha/);
    expect(running.structuredContent).toMatchObject({ state: "running", model: "qwen3:4b" });
    expect(notified.some((message) => message.includes("chars: alpha"))).toBe(true);
    expect((await patientCall(otherToken, "get_job", { job_id: job, wait_seconds: 0 })).text).toContain(`No job ${job}`);
    expect((await patientCall(otherToken, "cancel_job", { job_id: job })).isError).toBe(true);
    answers.open();
    const answer = await collectJob(onSecond, job);
    expect(answer.text).toMatch(/^alpha beta gamma delta\n\n— qwen3:4b \(ollama\)/);
    // It ran on the first replica; the second only read it from the store.
    const ended = (replica: TestServer) => replica.logs.some((line) => line.msg === "job ended" && line.jobId === job);
    await vi.waitFor(() => expect(replicas.map(ended)).toEqual([true, false]));
    ollama.reply = (call) => ({ content: `I recall: ${call.messages[1]?.content}` });
    const next = await patientCall(onSecond, "ask_llm", { prompt: "what did you say?", conversation_id: answer.structuredContent!.conversationId });
    expect(next.text).toContain("I recall: alpha beta gamma delta");
  });

  it("cancels through one replica a job running on the other: the model request is aborted", async () => {
    ollama.holdAnswers(1);
    const job = handedOff(await patientCall(onFirst, "ask_llm", { prompt: "cancel me from afar" }));
    const cancelled = await patientCall(onSecond, "cancel_job", { job_id: job });
    expect(cancelled.structuredContent).toMatchObject({ jobId: job });
    // The first replica reads the flag with its next heartbeat: stopped at once, or soon after.
    expect(["stopped", "requested"]).toContain(cancelled.structuredContent!.action);
    await untilAborted(ollama, "cancel me from afar");
    const after = await collectJob(onFirst, job);
    expect(after.structuredContent).toMatchObject({ state: "cancelled" });
    expect(after.text).toContain("is cancelled: Stopped by cancel_job");
  });

  it("reports a job as interrupted when the replica running it shuts down before it ends", async () => {
    ollama.holdAnswers(0);
    const leaving = await startTestServer({ OLLAMA_BASE_URL: ollama.baseUrl, DATABASE_URL: postgres.url, SHUTDOWN_TIMEOUT_MS: "200", ...JOBS });
    const client = await connectClient(leaving.url, "streamable-http", as(TOKEN_A));
    await openStore(client);
    const job = handedOff(await patientCall(client, "ask_llm", { prompt: "shut down under me" }));
    await client.close();
    await leaving.shutdown("redeploy");
    await untilAborted(ollama, "shut down under me");
    const lost = await patientCall(onSecond, "get_job", { job_id: job });
    expect(lost.isError).toBe(true);
    expect(lost.text).toContain("The server shut down (SHUTDOWN_TIMEOUT_MS passed) before this answer was finished");
    expect(leaving.logs.some((line) => line.msg === "jobs still running at the shutdown deadline are interrupted")).toBe(true);
  });

  it("reports a job as interrupted when the process running it is killed", async () => {
    ollama.holdAnswers(0);
    const doomed = await startChildServer({ OLLAMA_BASE_URL: ollama.baseUrl, DATABASE_URL: postgres.url, ...JOBS });
    try {
      const client = await connectClient(doomed.url, "streamable-http", as(TOKEN_A));
      await openStore(client);
      const job = handedOff(await patientCall(client, "ask_llm", { prompt: "killed under me" }));
      doomed.child.kill("SIGKILL");
      const lost = await collectJob(onSecond, job);
      expect(lost.isError).toBe(true);
      expect(lost.text).toContain("The server process running this job stopped (it was restarted, redeployed or crashed)");
    } finally {
      await stopChild(doomed.child);
    }
  });
});

describe("a restart of the only replica (embedded store)", () => {
  it("reports the job its killed process was running as interrupted, never as running forever", async () => {
    const dataDir = await freshDataDir();
    ollama.holdAnswers(0);
    const doomed = await startChildServer({ OLLAMA_BASE_URL: ollama.baseUrl, DATA_DIR: dataDir, ...JOBS });
    let restarted: TestServer | undefined;
    try {
      const client = await connectClient(doomed.url, "streamable-http", as(TOKEN_A));
      await openStore(client);
      const job = handedOff(await patientCall(client, "ask_llm", { prompt: "restart under me" }));
      doomed.child.kill("SIGKILL");
      await new Promise((resolve) => doomed.child.once("exit", resolve));
      restarted = await startTestServer({ OLLAMA_BASE_URL: ollama.baseUrl, DATA_DIR: dataDir, ...JOBS });
      const again = await connectClient(restarted.url, "streamable-http", as(TOKEN_A));
      await openStore(again);
      const lost = await collectJob(again, job);
      expect(lost.isError).toBe(true);
      expect(lost.text).toContain("The server process running this job stopped");
      expect((await patientCall(again, "list_jobs", {})).structuredContent!.jobs).toEqual([expect.objectContaining({ jobId: job, state: "interrupted" })]);
      await again.close();
    } finally {
      await stopChild(doomed.child);
      await restarted?.shutdown("test over");
      removeDataDir(dataDir);
    }
  });
});
