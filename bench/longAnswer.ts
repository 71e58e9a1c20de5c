import { directCaller, mcpCaller, type Target } from "./clients.js";
import { cpuMsOf } from "./procs.js";
import { benchModel } from "./standIn.js";
import { log, median, round } from "./stats.js";

/**
 * Long answers: gateway CPU per call and added latency as the answer grows (tokens streamed with
 * no delay), ask_llm over /mcp with a progress token against the same request sent direct.
 * A cost that grows faster than the answer shows up here.
 */
export type LongAnswerRow = { tokens: number; directP50Ms: number; mcpP50Ms: number; addedP50Ms: number; gatewayCpuPerCallMs: number };

export async function runLongAnswers(target: Target, sizes: number[], calls = 6): Promise<LongAnswerRow[]> {
  const rows: LongAnswerRow[] = [];
  for (const tokens of sizes) {
    const model = benchModel({ firstTokenMs: 0, tokens, tokenMs: 0 });
    const mcp = await mcpCaller(target.gateway, "mcp", model);
    const direct = directCaller(target.provider, model);
    const args = { max_tokens: tokens + 10 };
    await mcp.call("warm up", args);
    await direct.call("warm up", args);
    const times = { mcp: [] as number[], direct: [] as number[] };
    let gatewayCpu = 0;
    for (let i = 0; i < calls; i++) {
      times.direct.push((await direct.call("long answer", args)).ms);
      const cpu0 = cpuMsOf(target.gatewayPid);
      const sample = await mcp.call("long answer", args);
      gatewayCpu += cpuMsOf(target.gatewayPid) - cpu0;
      if (!sample.ok) throw new Error(`ask_llm failed for a ${tokens}-token answer`);
      times.mcp.push(sample.ms);
    }
    await mcp.close();
    const row = {
      tokens,
      directP50Ms: round(median(times.direct)),
      mcpP50Ms: round(median(times.mcp)),
      addedP50Ms: round(median(times.mcp) - median(times.direct)),
      gatewayCpuPerCallMs: round(gatewayCpu / calls),
    };
    log(`  long answer ${tokens} tokens: added ${row.addedP50Ms} ms, gateway CPU ${row.gatewayCpuPerCallMs} ms/call`);
    rows.push(row);
  }
  return rows;
}
