import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { collectJob, handedOff, openStore, patientCall } from "../support/jobs.js";
import { OllamaStandIn } from "../support/ollamaStandIn.js";
import { connectClient, startTestServer, type TestServer } from "../support/server.js";
import { inBatches, settledHeap } from "./support.js";

/**
 * Thousands of short jobs: each started in the background, collected with get_job, and left to
 * expire. Afterwards no job is left in the process or the store, and the heap is back near where
 * it started; a second identical round adds next to nothing. About 40 s on an idle 2-core machine,
 * and minutes while other processes keep both cores busy: hence the long timeouts.
 */

const JOBS_PER_ROUND = 1_000;
const IN_FLIGHT = 32;
/** Longer than a round takes, however slow: every job is still kept when the round is counted. */
const TTL_MS = 3_600_000;
/** Not a test of client timeouts: under load, a call may wait its turn for the embedded store. */
const CALL_TIMEOUT_MS = 60_000;

const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;

describe("thousands of short jobs", () => {
  let ollama: OllamaStandIn;
  let server: TestServer;
  let client: Client;

  beforeAll(async () => {
    ollama = await new OllamaStandIn().start();
    server = await startTestServer({
      OLLAMA_BASE_URL: ollama.baseUrl,
      LOG_LEVEL: "info",
      RATE_LIMIT_PER_MINUTE: "0",
      JOB_TTL_MS: String(TTL_MS),
      // get_job waits at most this long per call.
      ASYNC_AFTER_MS: "2000",
      JOB_MAX_RUNNING_PER_TOKEN: "10000",
      JOB_MAX_PER_TOKEN: "100000",
      JOB_MAX_TOTAL: "100000",
      OLLAMA_CONCURRENCY: "64",
      LLM_QUEUE_MAX: "10000",
      LLM_QUEUE_MAX_PER_TOKEN: "10000",
      // Every ask_llm starts a conversation; kept within a small budget they stop growing in round one.
      CONVERSATION_MAX_BYTES: "65536",
    });
    client = await connectClient(server.url, "streamable-http");
    await openStore(client);
  });
  afterAll(async () => {
    await client?.close();
    await server?.shutdown("test over");
    await ollama?.stop();
  });

  const rows = async () => (await server.services.state.use((db) => db.query<{ n: number }>("select count(*)::integer as n from jobs")))[0]!.n;

  /** Starts `count` jobs, collects each, lets them expire; returns how long that took. */
  async function round(count: number): Promise<number> {
    const started = performance.now();
    const answers = await inBatches(Array.from({ length: count }), IN_FLIGHT, async (_, i) => {
      const job = handedOff(await patientCall(client, "ask_llm", { prompt: `job ${i}`, background: true }, undefined, CALL_TIMEOUT_MS));
      return (await collectJob(client, job, 100, CALL_TIMEOUT_MS)).text;
    });
    const ms = performance.now() - started;
    expect(answers.filter((text, i) => !text.startsWith(`Echo from qwen3:4b: job ${i}\n\n— qwen3:4b (ollama)`))).toEqual([]);
    expect(server.services.jobs.size).toBe(0);
    expect(server.services.inFlight.size).toBe(0);
    expect(await rows()).toBe(count);
    await server.services.state.maintain(new Date(Date.now() + TTL_MS + 1));
    expect(await rows()).toBe(0);
    return ms;
  }

  const forget = () => {
    ollama.requests.length = 0;
    server.logs.length = 0;
  };

  it("leaves no job in the process or the store, and the heap where it was", { timeout: 600_000 }, async () => {
    await round(50);
    const before = await settledHeap(forget);
    const firstMs = await round(JOBS_PER_ROUND);
    const afterFirst = await settledHeap(forget);
    const secondMs = await round(JOBS_PER_ROUND);
    const afterSecond = await settledHeap(forget);
    const numbers = {
      jobsPerRound: JOBS_PER_ROUND,
      jobsPerSecond: Math.round((2 * JOBS_PER_ROUND) / ((firstMs + secondMs) / 1000)),
      heapUsedMb: { before: mb(before.heapUsed), afterFirst: mb(afterFirst.heapUsed), afterSecond: mb(afterSecond.heapUsed) },
    };
    console.info(`jobs numbers: ${JSON.stringify(numbers)}`);
    expect(afterFirst.heapUsed - before.heapUsed, JSON.stringify(numbers)).toBeLessThan(16 * 1024 * 1024);
    expect(afterSecond.heapUsed - afterFirst.heapUsed, JSON.stringify(numbers)).toBeLessThan(4 * 1024 * 1024);
  });
});
