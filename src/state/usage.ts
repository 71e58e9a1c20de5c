import type { Queryable } from "./db.js";
import type { StateStore } from "./store.js";

export type UsageSample = { owner: string; model: string; inputTokens: number; outputTokens: number };

export type UsageRow = { day: string; owner: string; model: string; requests: number; inputTokens: number; outputTokens: number };

/** Pending sums held between flushes at most; past it the next sample flushes at once. */
const MAX_PENDING = 1_000;
/** Model names are the resolved ones the server routed to; this only bounds a pathological one. */
const MAX_MODEL_CHARS = 256;

const dayOf = (date: Date) => date.toISOString().slice(0, 10);

/**
 * Tokens in and out per caller (the hash of its token), model and UTC day, in the state store.
 * Samples are summed in memory and written in one statement every `flushMs` (and at shutdown), so
 * no request waits for the database and a burst costs one write; rows older than `retentionDays`
 * go in the store's housekeeping. Rows are bounded by tokens × models that answered × days kept.
 */
export class UsageRecorder {
  private pending = new Map<string, UsageRow>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: StateStore,
    private readonly options: { retentionDays: number; flushMs?: number; onError?: (error: unknown) => void },
    private readonly now: () => Date = () => new Date(),
  ) {
    store.onMaintenance((db, now) => this.expire(db, now));
  }

  add(sample: UsageSample): void {
    const day = dayOf(this.now());
    const model = sample.model.slice(0, MAX_MODEL_CHARS);
    const key = JSON.stringify([day, sample.owner, model]);
    const row = this.pending.get(key) ?? { day, owner: sample.owner, model, requests: 0, inputTokens: 0, outputTokens: 0 };
    row.requests += 1;
    row.inputTokens += Math.max(0, Math.round(sample.inputTokens)) || 0;
    row.outputTokens += Math.max(0, Math.round(sample.outputTokens)) || 0;
    this.pending.set(key, row);
    if (this.pending.size >= MAX_PENDING) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.options.flushMs ?? 5_000).unref();
  }

  /** Writes what is pending (one statement); a failed write is reported and its sums kept for the next try. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const rows = [...this.pending.values()];
    this.pending = new Map();
    if (rows.length === 0) return this.flushing;
    this.flushing = this.flushing.then(() =>
      this.store
        .use((db) => upsert(db, rows))
        .then(
          () => undefined,
          (error: unknown) => {
            this.options.onError?.(error);
            for (const row of rows) this.merge(row);
          },
        ),
    );
    return this.flushing;
  }

  /** Sums per day and model (and per caller with `byOwner`), newest day first, over the last `days` days. */
  async report({ days, byOwner = false }: { days: number; byOwner?: boolean }): Promise<UsageRow[]> {
    const since = dayOf(new Date(this.now().getTime() - (days - 1) * 86_400_000));
    const [owner, groups] = byOwner ? ["owner", "day, model, owner"] : ["'*'", "day, model"];
    const rows = await this.store.use((db) =>
      db.query<{ day: string; owner: string; model: string; requests: string; input_tokens: string; output_tokens: string }>(
        `select to_char(day, 'YYYY-MM-DD') as day, ${owner} as owner, model, sum(requests)::text as requests,
                sum(input_tokens)::text as input_tokens, sum(output_tokens)::text as output_tokens
         from token_usage where day >= $1::date group by ${groups} order by day desc, ${groups.slice(5)}`,
        [since],
      ),
    );
    return rows.map((r) => ({
      day: r.day,
      owner: r.owner,
      model: r.model,
      requests: Number(r.requests),
      inputTokens: Number(r.input_tokens),
      outputTokens: Number(r.output_tokens),
    }));
  }

  private merge(row: UsageRow): void {
    const key = JSON.stringify([row.day, row.owner, row.model]);
    const held = this.pending.get(key);
    if (!held && this.pending.size >= MAX_PENDING) return;
    if (held) {
      held.requests += row.requests;
      held.inputTokens += row.inputTokens;
      held.outputTokens += row.outputTokens;
    } else this.pending.set(key, { ...row });
    this.timer ??= setTimeout(() => void this.flush(), this.options.flushMs ?? 5_000).unref();
  }

  private async expire(db: Queryable, now: Date): Promise<void> {
    await db.query("delete from token_usage where day < $1::date", [dayOf(new Date(now.getTime() - this.options.retentionDays * 86_400_000))]);
  }
}

function upsert(db: Queryable, rows: UsageRow[]): Promise<unknown> {
  const records = rows.map((r) => ({
    day: r.day,
    owner: r.owner,
    model: r.model,
    requests: r.requests,
    input_tokens: r.inputTokens,
    output_tokens: r.outputTokens,
  }));
  return db.query(
    `insert into token_usage select * from json_populate_recordset(null::token_usage, $1::json)
     on conflict (day, owner, model) do update set requests = token_usage.requests + excluded.requests,
       input_tokens = token_usage.input_tokens + excluded.input_tokens, output_tokens = token_usage.output_tokens + excluded.output_tokens`,
    [JSON.stringify(records)],
  );
}
