import { randomUUID } from "node:crypto";
import type { Queryable } from "./db.js";
import type { StateStore } from "./store.js";

export type JobTool = "ask_llm" | "compare_models" | "ask_docs";
export type JobState = "running" | "completed" | "failed" | "cancelled" | "interrupted";
/** A finished job's result: exactly what the tool would have returned (text and structuredContent). */
export type JobOutput = { text: string; structured: Record<string, unknown> };
export type JobFailure = { kind: string; message: string };

export type Job = {
  id: string;
  owner: string;
  tool: JobTool;
  model: string;
  state: JobState;
  /** The latest progress message, and how many progress steps there were. */
  progress: string;
  steps: number;
  result: JobOutput | undefined;
  failure: JobFailure | undefined;
  /** The process that runs (or ran) the job. */
  runner: string;
  createdAt: Date;
  finishedAt: Date | undefined;
};

export type JobLimits = {
  /** How long a finished job is kept (JOB_TTL_MS). */
  ttlMs: number;
  /** A running job whose process has not written a heartbeat for this long is reported as interrupted. */
  staleMs: number;
  maxRunningPerOwner: number;
  maxPerOwner: number;
  maxTotal: number;
};

export type NewJob = Pick<Job, "id" | "owner" | "tool" | "model" | "runner" | "progress" | "steps"> & {
  /** When its generation began, if before now (a call handed off): the job's age counts from there. */
  startedAt?: Date;
};

export type Heartbeat = { id: string; progress: string; steps: number };

/** A row as the drivers return it: nulls, and snake_case timestamps (Date, or text). */
type JobRow = Omit<Job, "result" | "failure" | "createdAt" | "finishedAt"> & {
  result: JobOutput | null;
  failure: JobFailure | null;
  created_at: Date | string;
  finished_at: Date | string | null;
};

/** Namespace of the advisory locks that make each owner's caps exact across replicas. */
const LOCK_CLASS = 7_245_312;

export const STALE_FAILURE: JobFailure = {
  kind: "interrupted",
  message: "The server process running this job stopped (it was restarted, redeployed or crashed) before the answer was finished, so it is lost. Ask again.",
};

const COLUMNS = "id, owner, tool, model, state, progress, steps, result, failure, runner, created_at, finished_at";

/**
 * Jobs in the state store: long generations that outlive the call that started them. Each is bound
 * to the caller that started it (another caller is answered as if it did not exist), capped per
 * caller (running and kept) and overall, and kept for `ttlMs` after it ends. The process running a
 * job writes a heartbeat; a job whose heartbeat stops is reported as interrupted, never as running
 * forever. A cancel from any replica is a flag the running process reads with its heartbeat.
 */
export class JobStore {
  constructor(
    private readonly store: StateStore,
    private readonly limits: JobLimits,
    private readonly now: () => Date = () => new Date(),
    /** This process, as the store knows it: its own jobs are alive while it runs, whatever their heartbeat says. */
    readonly self: string = randomUUID(),
  ) {
    store.onMaintenance((db, now) => this.sweep(db, now));
  }

  /** Opens the store in the background, if it is not open yet, so that a job can be stored without delay later. */
  warm(): void {
    this.store.use(async () => undefined).catch(() => undefined);
  }

  /** Stores a new running job, unless a cap is reached: then the refusal names the cap and its variable. */
  async create(job: NewJob): Promise<{ ok: true } | { ok: false; refusal: string }> {
    return this.store.use((db) =>
      db.transaction(async (tx) => {
        await tx.query("select pg_advisory_xact_lock($1, hashtext($2))", [LOCK_CLASS, job.owner]);
        // Read the clock once the store is open and the lock held: both can take a while.
        const now = this.now();
        const [counts] = await tx.query<{ running: number; mine: number; total: number }>(
          `select count(*) filter (where owner = $1 and state = 'running' and heartbeat_at > $2)::integer as running,
                  count(*) filter (where owner = $1)::integer as mine,
                  count(*)::integer as total
           from jobs where expires_at is null or expires_at > $3`,
          [job.owner, this.staleBefore(now), now],
        );
        const refusal = this.refusal(counts ?? { running: 0, mine: 0, total: 0 });
        if (refusal) return { ok: false as const, refusal };
        await tx.query(
          `insert into jobs (id, owner, tool, model, state, progress, steps, runner, heartbeat_at, created_at)
           values ($1, $2, $3, $4, 'running', $5, $6, $7, $8, $9)`,
          [job.id, job.owner, job.tool, job.model, job.progress, job.steps, job.runner, now, job.startedAt ?? now],
        );
        return { ok: true as const };
      }),
    );
  }

  /**
   * The runner's heartbeat for its running jobs, with their progress so far. Returns, of these,
   * the ones still running in the store and whether a cancel was asked for; a job missing from the
   * answer was reported as interrupted meanwhile.
   */
  async heartbeat(runner: string, jobs: Heartbeat[]): Promise<Map<string, { cancelRequested: boolean }>> {
    if (jobs.length === 0) return new Map();
    const rows = await this.store.use((db) =>
      db.query<{ id: string; cancel_requested: boolean }>(
        `update jobs set heartbeat_at = $2, progress = beat.progress, steps = beat.steps
         from unnest($3::uuid[], $4::text[], $5::integer[]) as beat(id, progress, steps)
         where jobs.id = beat.id and jobs.runner = $1 and jobs.state = 'running'
         returning jobs.id, jobs.cancel_requested`,
        [runner, this.now(), jobs.map((j) => j.id), jobs.map((j) => j.progress), jobs.map((j) => j.steps)],
      ),
    );
    return new Map(rows.map((row) => [row.id, { cancelRequested: row.cancel_requested }]));
  }

  /** Records how a running job ended; false if it was no longer running here (reported as interrupted meanwhile). */
  async finish(
    id: string,
    runner: string,
    end: { state: Exclude<JobState, "running">; result?: JobOutput; failure?: JobFailure; progress: string; steps: number },
  ): Promise<boolean> {
    const rows = await this.store.use((db) => {
      const now = this.now();
      return db.query(
        `update jobs set state = $3, result = $4, failure = $5, progress = $6, steps = $7, finished_at = $8, expires_at = $9
         where id = $1 and runner = $2 and state = 'running' returning id`,
        [id, runner, end.state, json(end.result), json(end.failure), end.progress, end.steps, now, this.expiry(now)],
      );
    });
    return rows.length > 0;
  }

  /** The caller's job; another caller's, or an expired one, is unknown. A running job whose process died is reported as interrupted. */
  async get(id: string, owner: string): Promise<Job | undefined> {
    const rows = await this.read("id = $1 and owner = $2", [id, owner], "");
    return rows[0];
  }

  /** The caller's newest jobs, at most `limit`. */
  async list(owner: string, limit: number): Promise<Job[]> {
    return this.read("owner = $1", [owner], `order by created_at desc, id limit ${Math.trunc(limit)}`);
  }

  /** Asks the process running the caller's job to stop it (it reads the flag with its next heartbeat). */
  async requestCancel(id: string, owner: string): Promise<void> {
    await this.store.use((db) => db.query("update jobs set cancel_requested = true where id = $1 and owner = $2 and state = 'running'", [id, owner]));
  }

  /** Forgets one of the caller's finished jobs; false if there was none. */
  async remove(id: string, owner: string): Promise<boolean> {
    const rows = await this.store.use((db) => db.query("delete from jobs where id = $1 and owner = $2 and state <> 'running' returning id", [id, owner]));
    return rows.length > 0;
  }

  /** Marks every job this runner still has running as interrupted (a shutdown that could not wait for them). */
  async interruptRunner(runner: string, failure: JobFailure): Promise<number> {
    const rows = await this.store.use((db) => {
      const now = this.now();
      return db.query(
        "update jobs set state = 'interrupted', failure = $2, finished_at = $3, expires_at = $4 where runner = $1 and state = 'running' returning id",
        [runner, json(failure), now, this.expiry(now)],
      );
    });
    return rows.length;
  }

  /** Running jobs whose process went silent become interrupted; jobs past their time go. */
  private async sweep(db: Queryable, now: Date): Promise<void> {
    await this.interruptStale(db, now, "true", []);
    await db.query("delete from jobs where expires_at <= $1", [now]);
  }

  /**
   * The jobs `where` picks (its parameters start at $1), unexpired. Reading is the common case and
   * writes nothing: only when a running job among them has gone silent is it marked interrupted.
   */
  private async read(where: string, params: unknown[], tail: string): Promise<Job[]> {
    return this.store.use(async (db) => {
      const now = this.now();
      const select = () =>
        db.query<JobRow & { heartbeat_at: Date | string }>(
          `select ${COLUMNS}, heartbeat_at from jobs where ${where} and (expires_at is null or expires_at > $${params.length + 1}) ${tail}`,
          [...params, now],
        );
      const rows = await select();
      const staleBefore = this.staleBefore(now).getTime();
      const stale = (row: (typeof rows)[number]) => row.state === "running" && row.runner !== this.self && date(row.heartbeat_at).getTime() <= staleBefore;
      if (!rows.some(stale)) return rows.map(toJob);
      await this.interruptStale(db, now, where, params);
      return (await select()).map(toJob);
    });
  }

  /** Marks the running jobs `where` picks (its parameters start at $1) interrupted if their process (not this one) went silent. */
  private async interruptStale(db: Queryable, now: Date, where: string, params: unknown[]): Promise<void> {
    const n = params.length;
    await db.query(
      `update jobs set state = 'interrupted', failure = $${n + 1}, finished_at = $${n + 2}, expires_at = $${n + 3}
       where state = 'running' and heartbeat_at <= $${n + 4} and runner <> $${n + 5} and ${where}`,
      [...params, json(STALE_FAILURE), now, this.expiry(now), this.staleBefore(now), this.self],
    );
  }

  private refusal(counts: { running: number; mine: number; total: number }): string | undefined {
    const { maxRunningPerOwner, maxPerOwner, maxTotal } = this.limits;
    if (counts.running >= maxRunningPerOwner) {
      return `You already have ${counts.running} jobs running, the most one token may have (JOB_MAX_RUNNING_PER_TOKEN=${maxRunningPerOwner}). Wait for one to finish (get_job) or stop one (cancel_job), then try again.`;
    }
    if (counts.mine >= maxPerOwner) {
      return `You already have ${counts.mine} jobs kept, the most one token may keep (JOB_MAX_PER_TOKEN=${maxPerOwner}); finished jobs are kept for JOB_TTL_MS. Remove the finished ones you have collected with cancel_job, then try again.`;
    }
    if (counts.total >= maxTotal) {
      return `The server already keeps ${counts.total} jobs, its limit for all tokens together (JOB_MAX_TOTAL=${maxTotal}). Try again later, or ask its operator to raise JOB_MAX_TOTAL.`;
    }
    return undefined;
  }

  private staleBefore(now: Date): Date {
    return new Date(now.getTime() - this.limits.staleMs);
  }

  private expiry(now: Date): Date {
    return new Date(now.getTime() + this.limits.ttlMs);
  }
}

const json = (value: unknown) => (value === undefined ? null : JSON.stringify(value));

const date = (value: Date | string) => (value instanceof Date ? value : new Date(value));

function toJob(row: JobRow): Job {
  return {
    id: row.id,
    owner: row.owner,
    tool: row.tool,
    model: row.model,
    state: row.state,
    progress: row.progress,
    steps: row.steps,
    result: row.result ?? undefined,
    failure: row.failure ?? undefined,
    runner: row.runner,
    createdAt: date(row.created_at),
    finishedAt: row.finished_at === null ? undefined : date(row.finished_at),
  };
}
