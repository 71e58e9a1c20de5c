import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OllamaStandIn } from "../support/ollamaStandIn.js";
import { type PostgresServer, postgresBin, startPostgres } from "../support/postgres.js";
import { callTool, connectClient, startTestServer } from "../support/server.js";
import { collect, spawnServer } from "../support/spawn.js";
import { freshDataDir, removeDataDir } from "../support/state.js";

const sentMessages = (ollama: OllamaStandIn) => (ollama.chats().at(-1)!.body as { messages: Array<{ content: string }> }).messages.map((m) => m.content);

describe("state that lasts", () => {
  let ollama: OllamaStandIn;
  beforeAll(async () => {
    ollama = await new OllamaStandIn().start();
  });
  afterAll(() => ollama.stop());

  it("keeps a conversation across a restart of the server (embedded store)", async () => {
    const dataDir = await freshDataDir();
    const first = await startTestServer({ OLLAMA_BASE_URL: ollama.baseUrl, DATA_DIR: dataDir });
    const before = await connectClient(first.url, "streamable-http");
    const id = (await callTool(before, "ask_llm", { prompt: "remember the word teal" })).structuredContent!.conversationId as string;
    await before.close();
    await first.shutdown("restart");
    const second = await startTestServer({ OLLAMA_BASE_URL: ollama.baseUrl, DATA_DIR: dataDir });
    const after = await connectClient(second.url, "streamable-http");
    const result = await callTool(after, "ask_llm", { prompt: "which word?", conversation_id: id });
    expect(result.isError).toBeFalsy();
    expect(sentMessages(ollama)).toEqual(["remember the word teal", "Echo from qwen3:4b: remember the word teal", "which word?"]);
    await after.close();
    await second.shutdown("test over");
    removeDataDir(dataDir);
  });

  it("refuses to start on a DATA_DIR it cannot write, and names it", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "mcp-lab-")), "a-file");
    writeFileSync(file, "");
    const child = spawnServer([], { PORT: "0", HOST: "127.0.0.1", DATA_DIR: join(file, "data") });
    const output = collect(child);
    expect(await output.exit).toBe(2);
    expect(output.stderr()).toContain(`DATA_DIR="${join(file, "data")}" is not a directory this user can write`);
  });

  it("refuses a DATABASE_URL that does not parse, naming the variable and hiding its value", async () => {
    const child = spawnServer([], { PORT: "0", HOST: "127.0.0.1", DATABASE_URL: "mysql://root:hunter2@db/x" });
    const output = collect(child);
    expect(await output.exit).toBe(2);
    expect(output.stderr()).toContain("DATABASE_URL=(hidden) is not valid: expected a postgres:// or postgresql:// URL");
    expect(output.stderr()).not.toContain("hunter2");
  });
});

describe.skipIf(!postgresBin())("a PostgreSQL server that goes away", () => {
  let ollama: OllamaStandIn;
  let postgres: PostgresServer;
  beforeAll(async () => {
    ollama = await new OllamaStandIn().start();
    postgres = await startPostgres();
  });
  afterAll(async () => {
    await postgres.stop();
    await ollama.stop();
  });

  it("still serves what needs no state, says what is wrong, and works again once it is back", async () => {
    await postgres.halt();
    const server = await startTestServer({ OLLAMA_BASE_URL: ollama.baseUrl, DATABASE_URL: postgres.url, READY_CACHE_MS: "0" });
    const client = await connectClient(server.url, "streamable-http");
    expect((await callTool(client, "add", { a: 1, b: 1 })).text).toBe("2");
    const ready = await fetch(`${server.url}/ready`);
    const body = (await ready.json()) as { state: string; reason: string };
    expect(ready.status).toBe(503);
    expect(body.state).toBe(`Postgres at 127.0.0.1:${postgres.port}/mcp_lab`);
    expect(body.reason).toContain("The state store (Postgres at 127.0.0.1");
    const continued = await callTool(client, "ask_llm", { prompt: "hi", conversation_id: "00000000-0000-4000-8000-000000000000" });
    expect(continued.isError).toBe(true);
    expect(continued.text).toContain("The state store (Postgres at");
    // A new conversation still gets its answer; only the saving fails, and it says so.
    const fresh = await callTool(client, "ask_llm", { prompt: "still answer me" });
    expect(fresh.isError).toBeFalsy();
    expect(fresh.text).toContain("this turn could not be saved");
    await postgres.restart();
    const back = await callTool(client, "ask_llm", { prompt: "and now?" });
    expect(back.isError).toBeFalsy();
    expect(back.text).toContain("conversation_id:");
    expect((await fetch(`${server.url}/ready`)).status).toBe(200);
    const everything = JSON.stringify([server.logs, body, continued, fresh, back]);
    expect(everything).not.toContain("not-a-secret-pw");
    await client.close();
    await server.shutdown("test over");
  });

  it("loses no answer when the database stops mid-call, and saves again after a restart", async () => {
    const server = await startTestServer({ OLLAMA_BASE_URL: ollama.baseUrl, DATABASE_URL: postgres.url });
    const client = await connectClient(server.url, "streamable-http");
    const id = (await callTool(client, "ask_llm", { prompt: "first" })).structuredContent!.conversationId as string;
    // The history is read, the model is asked and answers slowly, and the database goes meanwhile.
    ollama.behaviour = { firstTokenDelayMs: 1_500, tokenDelayMs: 0 };
    const asked = ollama.requests.length;
    const slow = callTool(client, "ask_llm", { prompt: "second", conversation_id: id });
    while (ollama.requests.length === asked) await new Promise((resolve) => setTimeout(resolve, 10));
    await postgres.halt();
    const result = await slow;
    ollama.reset();
    expect(result.isError).toBeFalsy();
    expect(result.text).toContain("Echo from qwen3:4b: second");
    expect(result.text).toContain("this turn could not be saved");
    await postgres.restart();
    const again = await callTool(client, "ask_llm", { prompt: "third", conversation_id: id });
    expect(again.isError, again.text).toBeFalsy();
    expect(sentMessages(ollama)).toEqual(["first", "Echo from qwen3:4b: first", "third"]);
    await client.close();
    await server.shutdown("test over");
  });
});
