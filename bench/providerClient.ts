import OpenAI from "openai";
import { Agent, request, fetch as undiciFetch } from "undici";
import { benchModel } from "./standIn.js";
import { log, median, round } from "./stats.js";

/**
 * The client for OpenAI-compatible cloud providers, measured in this process: a streamed chat
 * completion through the openai SDK over undici's fetch with a keep-alive Agent, against
 * undici.request on the same Agent with a 20-line SSE parser. Same stand-in (its
 * /v1/chat/completions route, which exists for this section only), same request, alternating,
 * 10 tokens with no delay. Ollama is not called this way: the gateway uses its native API.
 */
export type ProviderClientResult = { sdk: { p50Ms: number; cpuPerCallMs: number }; plain: { p50Ms: number; cpuPerCallMs: number }; calls: number };

type Body = { model: string; messages: Array<{ role: "user"; content: string }>; stream: true; stream_options: { include_usage: boolean } };

async function viaSdk(client: OpenAI, body: Body): Promise<string> {
  const stream = await client.chat.completions.create(body, { signal: new AbortController().signal });
  let text = "";
  for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? "";
  return text;
}

async function viaRequest(url: string, dispatcher: Agent, body: Body): Promise<string> {
  const response = await request(`${url}/v1/chat/completions`, {
    method: "POST",
    dispatcher,
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  let buffer = "";
  let text = "";
  for await (const bytes of response.body) {
    buffer += (bytes as Buffer).toString("utf8");
    for (let end = buffer.indexOf("\n\n"); end !== -1; end = buffer.indexOf("\n\n")) {
      const data = buffer.slice(6, end);
      buffer = buffer.slice(end + 2);
      if (data && data !== "[DONE]") text += (JSON.parse(data) as { choices: Array<{ delta?: { content?: string } }> }).choices[0]?.delta?.content ?? "";
    }
  }
  return text;
}

async function timed(calls: number, run: () => Promise<string>): Promise<{ times: number[]; cpuMs: number }> {
  const times: number[] = [];
  const cpu = process.cpuUsage();
  for (let i = 0; i < calls; i++) {
    const started = performance.now();
    await run();
    times.push(performance.now() - started);
  }
  const used = process.cpuUsage(cpu);
  return { times, cpuMs: (used.user + used.system) / 1000 };
}

export async function runProviderClient(providerUrl: string, rounds = 6, perRound = 200): Promise<ProviderClientResult> {
  const dispatcher = new Agent({ keepAliveTimeout: 30_000, connections: 64, headersTimeout: 0, bodyTimeout: 0 });
  const fetchWith = ((input: Parameters<typeof undiciFetch>[0], init?: Parameters<typeof undiciFetch>[1]) =>
    undiciFetch(input, { ...init, dispatcher })) as unknown as typeof fetch;
  const client = new OpenAI({ baseURL: `${providerUrl}/v1`, apiKey: "bench", maxRetries: 0, fetch: fetchWith });
  const body: Body = {
    model: benchModel({ firstTokenMs: 0, tokens: 10, tokenMs: 0 }),
    messages: [{ role: "user", content: "hi" }],
    stream: true,
    stream_options: { include_usage: true },
  };
  const all = { sdk: { times: [] as number[], cpuMs: 0 }, plain: { times: [] as number[], cpuMs: 0 } };
  await timed(100, () => viaSdk(client, body));
  await timed(100, () => viaRequest(providerUrl, dispatcher, body));
  for (let r = 0; r < rounds; r++) {
    for (const which of r % 2 ? (["plain", "sdk"] as const) : (["sdk", "plain"] as const)) {
      const run = which === "sdk" ? () => viaSdk(client, body) : () => viaRequest(providerUrl, dispatcher, body);
      const result = await timed(perRound, run);
      all[which].times.push(...result.times);
      all[which].cpuMs += result.cpuMs;
    }
  }
  await dispatcher.close();
  const calls = rounds * perRound;
  const summary = (x: { times: number[]; cpuMs: number }) => ({ p50Ms: round(median(x.times), 3), cpuPerCallMs: round(x.cpuMs / calls, 3) });
  const result = { sdk: summary(all.sdk), plain: summary(all.plain), calls };
  log(
    `  provider client: openai SDK ${result.sdk.p50Ms} ms / ${result.sdk.cpuPerCallMs} ms CPU, undici.request ${result.plain.p50Ms} ms / ${result.plain.cpuPerCallMs} ms CPU`,
  );
  return result;
}
