import type { ServerResponse } from "node:http";
import type { Readiness } from "../llm/types.js";
import { redactDeep } from "../secrets.js";
import { version } from "../version.js";
import { sendJson } from "./respond.js";

const startedAt = Date.now();

/** GET /health: liveness, no I/O. */
export function health(res: ServerResponse): void {
  sendJson(res, 200, { status: "ok", version, uptimeSeconds: Math.round((Date.now() - startedAt) / 1000) });
}

export type ReadyReport = { ok: boolean; body: Record<string, unknown> };

/**
 * GET /ready: 200 only when the default model's provider answers and has that model (no
 * generation). The upstream is asked at most once per `ttlMs`, with one check in flight however many
 * callers wait, so anonymous probes cannot turn into upstream traffic (or keep waking an
 * auto-stopped Ollama machine). Callers without a token see only the status, not internal URLs.
 */
export class ReadinessProbe {
  private cached: { at: number; report: ReadyReport } | undefined;
  private pending: Promise<ReadyReport> | undefined;

  constructor(
    private readonly check: () => Promise<ReadyReport>,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  report(): Promise<ReadyReport> {
    if (this.cached && this.now() - this.cached.at < this.ttlMs) return Promise.resolve(this.cached.report);
    this.pending ??= this.check()
      .catch((error: unknown): ReadyReport => ({ ok: false, body: { status: "not_ready", reason: error instanceof Error ? error.message : String(error) } }))
      .then((report) => {
        this.cached = { at: this.now(), report };
        return report;
      })
      .finally(() => (this.pending = undefined));
    return this.pending;
  }

  async answer(res: ServerResponse, detailed: boolean): Promise<void> {
    const report = await this.report();
    sendJson(res, report.ok ? 200 : 503, detailed ? redactDeep(report.body) : { status: report.body.status });
  }
}

/** The readiness of the default model and of the state store, as /ready reports it. */
export function readyReport(
  provider: Readiness,
  state: { ok: true } | { ok: false; reason: string },
  about: { model: string; provider: string; state: string },
): ReadyReport {
  if (!state.ok) return { ok: false, body: { status: "not_ready", ...about, reason: state.reason } };
  if (provider.ok) return { ok: true, body: { status: "ready", ...about, detail: provider.detail } };
  return { ok: false, body: { status: "not_ready", ...about, reason: provider.reason } };
}
