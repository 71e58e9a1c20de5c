import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NGINX_SKIP, type Nginx, nginxBin, startNginx } from "../support/nginx.js";
import { OllamaStandIn } from "../support/ollamaStandIn.js";
import { POSTGRES_SKIP, type PostgresServer, postgresBin, startPostgres } from "../support/postgres.js";
import { callTool } from "../support/server.js";
import { type ChildServer, connectStreamable, startChildServer, stopChild } from "./support.js";

const missing = [nginxBin() ? "" : NGINX_SKIP, postgresBin() ? "" : POSTGRES_SKIP].filter(Boolean);
if (missing.length) console.warn(`test/scale/sharedState.test.ts: SKIPPED: ${missing.join("; ")}`);

/** Two replicas on one PostgreSQL server behind a round-robin load balancer: a conversation started on one continues on the other. */
describe.skipIf(missing.length > 0)("state shared by replicas", () => {
  let ollama: OllamaStandIn;
  let postgres: PostgresServer;
  const replicas: ChildServer[] = [];
  let nginx: Nginx;
  beforeAll(async () => {
    ollama = await new OllamaStandIn().start();
    postgres = await startPostgres();
    const env = { OLLAMA_BASE_URL: ollama.baseUrl, MCP_STATELESS: "true", DATABASE_URL: postgres.url, RATE_LIMIT_PER_MINUTE: "0" };
    // Both start at once against an empty database: the migration lock lets one migrate.
    replicas.push(...(await Promise.all([startChildServer(env), startChildServer(env)])));
    nginx = await startNginx(replicas.map((replica) => replica.port));
  }, 60_000);
  afterAll(async () => {
    await nginx?.stop();
    await Promise.all(replicas.map((replica) => stopChild(replica.child)));
    await postgres?.stop();
    await ollama?.stop();
  });

  it("continues a conversation on whichever replica answers", { timeout: 30_000 }, async () => {
    const { client, transport } = await connectStreamable(nginx.url);
    const first = await callTool(client, "ask_llm", { prompt: "turn 0" });
    const id = first.structuredContent!.conversationId as string;
    for (let turn = 1; turn < 6; turn++) {
      const result = await callTool(client, "ask_llm", { prompt: `turn ${turn}`, conversation_id: id });
      expect(result.isError, result.text).toBeFalsy();
      const sent = (ollama.requests.at(-1)!.body as { messages: Array<{ content: string }> }).messages.map((m) => m.content);
      expect(sent.filter((content) => content.startsWith("turn "))).toEqual(Array.from({ length: turn + 1 }, (_, i) => `turn ${i}`));
    }
    await transport.close();
    const served = replicas.map(
      (replica) =>
        replica.output
          .stderr()
          .split("\n")
          .filter((line) => line.includes('"tool":"ask_llm"')).length,
    );
    expect(
      served.every((count) => count > 0),
      `calls per replica: ${served.join(", ")}`,
    ).toBe(true);
  });
});
