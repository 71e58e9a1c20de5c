// First: refuses an old Node.js before any dependency loads.
import "../nodeCheck.js";
import type { Config } from "../config.js";
import { createHttpClient, type HttpClient } from "../llm/providers/httpClient.js";
import { OllamaProvider } from "../llm/providers/ollama.js";
import { redactText } from "../secrets.js";
import { Embedder } from "../services/docs/embedder.js";
import { Indexer } from "../services/docs/indexer.js";
import { DocumentStore } from "../state/documents.js";
import type { StateStore } from "../state/store.js";
import { ProgressView, summaryLine } from "./progressView.js";
import { runCli, withStore } from "./run.js";

const USAGE = `Usage (in the image: node dist/cli/index.js [options] <folder or file>...):
  pnpm index [--section NAME] [--prune] <folder or file>...

Reads Markdown, plain text and other text files (binaries are skipped, each with a note), splits them
at their headings into chunks, embeds each chunk with the Ollama model EMBED_MODEL and stores them in
the state store (DATA_DIR, or DATABASE_URL when set). Running it again embeds only what changed.

  --section NAME   file every document under this section (default: the name of its folder)
  --prune          also remove documents of the named folders whose files are gone

Settings come from the environment or .env: EMBED_MODEL (embeddinggemma), EMBED_DIMENSIONS,
OLLAMA_BASE_URL, DATA_DIR or DATABASE_URL, DOCS_MAX_DOCUMENT_BYTES.`;

type Args = { paths: string[]; section?: string; prune: boolean };

function parseArgs(argv: string[]): Args | string {
  const args: Args = { paths: [], prune: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--prune") args.prune = true;
    else if (arg === "--section") {
      const name = argv[++i]?.trim();
      if (!name || name.length > 100) return "--section needs a name of 1 to 100 characters";
      args.section = name;
    } else if (arg === "--help" || arg === "-h") return "";
    else if (arg.startsWith("--")) return `unknown option ${arg}`;
    else args.paths.push(arg);
  }
  return args.paths.length > 0 ? args : "name at least one folder or file";
}

async function main(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  if (typeof args === "string") {
    console.error(args ? `index: ${args}\n\n${USAGE}` : USAGE);
    return args ? 2 : 0;
  }
  return withStore(async (store, config) => {
    const http = createHttpClient({ connectTimeoutMs: config.timeouts.connectMs });
    try {
      return await indexFiles(args, store, config, http);
    } finally {
      await http.close();
    }
  });
}

/** Runs the indexer with a progress view; Ctrl-C stops after the file being written (twice: at once). */
async function indexFiles(args: Args, store: StateStore, config: Config, http: HttpClient): Promise<number> {
  const { firstTokenMs, idleMs, totalMs } = config.timeouts;
  const limits = { firstTokenMs, idleMs, totalMs };
  const ollama = new OllamaProvider({ baseUrl: config.ollama.baseUrl, http, limits, pullLimits: limits });
  const embedder = new Embedder({ ollama, model: config.docs.embedModel, dimensions: config.docs.embedDimensions });
  const view = new ProgressView(process.stderr);
  const indexer = new Indexer(new DocumentStore(store), embedder, (event) => view.event(event));
  const stop = new AbortController();
  const interrupt = () => {
    if (stop.signal.aborted) process.exit(130);
    view.finish();
    console.error("stopping after the file being written (Ctrl-C again to quit at once)…");
    stop.abort();
  };
  process.on("SIGINT", interrupt);
  try {
    const summary = await indexer.run({ ...args, maxDocumentBytes: config.docs.maxDocumentBytes, maxFiles: 100_000, signal: stop.signal });
    view.finish();
    console.error(summaryLine(summary, store.where));
    return 0;
  } catch (error) {
    view.finish();
    const stopped = stop.signal.aborted;
    if (!stopped) console.error(`index: ${redactText(error instanceof Error ? error.message : String(error))}`);
    console.error(`${stopped ? "Stopped" : "Stopped by that failure"}. Done before it: ${summaryLine(indexer.progress, store.where)}`);
    console.error("Each file is either fully indexed or as it was; run the same command again to go on.");
    return stopped ? 130 : 1;
  } finally {
    process.off("SIGINT", interrupt);
  }
}

runCli("index", main);
