import type { ColdStartResult } from "./coldStart.js";
import type { ContainerResult } from "./container.js";
import type { InitializeResult } from "./initialize.js";
import type { LongAnswerRow } from "./longAnswer.js";
import type { MemoryResult } from "./memory.js";
import type { OllamaResult } from "./ollama.js";
import type { LevelResult } from "./overhead.js";
import type { ProviderClientResult } from "./providerClient.js";
import type { StandInOptions } from "./standIn.js";

/** Everything one `pnpm bench` run measured; written as BENCHMARKS.json. */
export type BenchResults = {
  machine: {
    cpu: string;
    cores: number;
    memoryGiB: number;
    node: string;
    os: string;
    commit: string;
    date: string;
    /** The 1-minute load average before the run started (what else the machine was doing) and when it ended (the bench included). */
    loadAverage: { atStart: number; atEnd: number };
  };
  settings: {
    standIn: StandInOptions;
    gatewayEntry: string;
    /** The node flags of the Dockerfile's CMD, which the gateway runs with. */
    imageNodeArgs: string[];
    gatewayEnv: Record<string, string>;
    quick: boolean;
    durationSeconds?: number;
  };
  overhead: LevelResult[];
  providerClient: ProviderClientResult;
  longAnswers: LongAnswerRow[];
  initialize: InitializeResult;
  coldStart: ColdStartResult;
  memory: MemoryResult;
  /** The same, with the gateway started without the image's node flags (`flags`); not in a --quick run. */
  memoryWithoutFlags?: MemoryResult & { flags: string[] };
  container: ContainerResult;
  ollama: OllamaResult;
};

export type Verdict = { id: string; what: string; target: string; measured: string; pass: boolean };
