import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LlmError } from "../../../src/llm/errors.js";
import { createHttpClient } from "../../../src/llm/providers/httpClient.js";
import { embed } from "../../../src/llm/providers/ollamaApi.js";
import { OllamaStandIn, standInEmbedding } from "../../support/ollamaStandIn.js";

/** POST /api/embed through our client: against the stand-in, then against answers a broken or hostile server gives. */
const http = createHttpClient({ connectTimeoutMs: 1000 });
let standIn: OllamaStandIn;
let answer: (res: ServerResponse) => void;
let hostile: Server;
let hostileUrl: string;

beforeAll(async () => {
  standIn = await new OllamaStandIn().start();
  hostile = createServer((req, res) => {
    req.resume();
    req.on("end", () => answer(res));
  });
  await new Promise<void>((resolve) => hostile.listen(0, "127.0.0.1", resolve));
  hostileUrl = `http://127.0.0.1:${(hostile.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await http.close();
  await standIn.stop();
  hostile.closeAllConnections();
  await new Promise((resolve) => hostile.close(resolve));
});

const signal = () => AbortSignal.timeout(10_000);

describe("embeddings from Ollama", () => {
  it("sends a batch with truncate (and dimensions when asked) and returns one vector per input, in order, with the token count", async () => {
    const result = await embed(
      { baseUrl: standIn.baseUrl, http },
      { model: "nomic-embed-text", input: ["first text", "second text here"], dimensions: 256 },
      signal(),
    );
    expect(standIn.requests.at(-1)!.body).toEqual({ model: "nomic-embed-text", input: ["first text", "second text here"], truncate: true, dimensions: 256 });
    expect(result.embeddings).toEqual([standInEmbedding("first text", 256), standInEmbedding("second text here", 256)]);
    expect(result.promptTokens).toBe(5);
  });

  it("says which model to pull when it is missing, and refuses a model that does not embed", async () => {
    const missing = await embed({ baseUrl: standIn.baseUrl, http }, { model: "mxbai-embed-large", input: ["x"] }, signal()).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(LlmError);
    expect((missing as LlmError).kind).toBe("model_not_found");
    expect((missing as LlmError).message).toContain("ollama pull mxbai-embed-large");
    const chatModel = await embed({ baseUrl: standIn.baseUrl, http }, { model: "qwen3:4b", input: ["x"] }, signal()).catch((e: unknown) => e);
    expect((chatModel as LlmError).kind).toBe("bad_request");
    expect((chatModel as LlmError).message).toContain("this model does not support embeddings");
  });

  it.each([
    ["too few vectors", { embeddings: [[0.1, 0.2]] }, "expected 2 vector(s), got 1"],
    ["no vectors at all", { error_free: true }, "expected 2 vector(s), got none"],
    ["vectors of two lengths", { embeddings: [[0.1, 0.2], [0.3]] }, "the vectors are not all of one length (2)"],
    ["empty vectors", { embeddings: [[], []] }, "the vectors are not all of one length (0)"],
    [
      "something other than numbers",
      {
        embeddings: [
          [0.1, "0.2"],
          [0.3, null],
        ],
      },
      "a vector holds something other than a finite number",
    ],
  ])("refuses an answer with %s, before anything could store it", async (_name, body, said) => {
    answer = (res) => res.end(JSON.stringify(body));
    const error = await embed({ baseUrl: hostileUrl, http }, { model: "m", input: ["a", "b"] }, signal()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LlmError);
    expect((error as LlmError).message).toBe(`Ollama's /api/embed answer for 'm' is malformed: ${said}. Nothing was stored.`);
  });

  it("stops reading an answer past 16 MiB and says so", async () => {
    answer = (res) => {
      res.write('{"embeddings":[[');
      const piece = `${"0.123456789,".repeat(10_000)}`;
      const pump = () => {
        while (res.write(piece)) if (res.writableLength > 64 * 1024 * 1024) return;
        if (!res.destroyed) res.once("drain", pump);
      };
      res.on("close", () => res.removeAllListeners("drain"));
      pump();
    };
    const error = await embed({ baseUrl: hostileUrl, http }, { model: "m", input: ["a"] }, signal()).catch((e: unknown) => e);
    expect((error as LlmError).message).toContain("the answer was larger than 16777216 bytes");
  });
});
