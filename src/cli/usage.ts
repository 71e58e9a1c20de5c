// First: refuses an old Node.js before any dependency loads.
import "../nodeCheck.js";
import { UsageRecorder, type UsageRow } from "../state/usage.js";
import { runCli, withStore } from "./run.js";

const USAGE = `Usage (in the image: node dist/cli/usage.js [options]):
  pnpm usage                 tokens in and out per model per day, the last 30 days, from the store
                             (DATA_DIR, or DATABASE_URL when set), as the /v1 endpoints recorded them
  pnpm usage --days 7        the last 7 days
  pnpm usage --by-token      one row per token as well (a token is shown by its id, token:<hash>)
  pnpm usage --json          JSON lines instead of a table`;

type Options = { days: number; byOwner: boolean; json: boolean };

function parse(argv: string[]): Options | undefined {
  const options: Options = { days: 30, byOwner: false, json: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--by-token") options.byOwner = true;
    else if (arg === "--json") options.json = true;
    else if (arg === "--days" && /^\d{1,5}$/.test(argv[i + 1] ?? "") && Number(argv[i + 1]) > 0) options.days = Number(argv[++i]);
    else return undefined;
  }
  return options;
}

function table(rows: UsageRow[], byOwner: boolean): string {
  const header = ["day", ...(byOwner ? ["token"] : []), "model", "requests", "tokens in", "tokens out"];
  const lines = rows.map((r) => [r.day, ...(byOwner ? [r.owner] : []), r.model, String(r.requests), String(r.inputTokens), String(r.outputTokens)]);
  const widths = header.map((title, i) => Math.max(title.length, ...lines.map((line) => line[i]!.length)));
  const numeric = (i: number) => i >= header.length - 3;
  const format = (cells: string[]) =>
    cells
      .map((cell, i) => (numeric(i) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [format(header), ...lines.map(format)].join("\n");
}

async function main(argv: string[]): Promise<number> {
  const options = parse(argv);
  if (!options) {
    console.error(USAGE);
    return 2;
  }
  return withStore(async (store, config) => {
    const rows = await new UsageRecorder(store, { retentionDays: config.api.usageRetentionDays }).report({ days: options.days, byOwner: options.byOwner });
    if (options.json) for (const row of rows) process.stdout.write(`${JSON.stringify(options.byOwner ? row : { ...row, owner: undefined })}\n`);
    else
      process.stdout.write(rows.length === 0 ? `no usage recorded in the last ${options.days} days (${store.where})\n` : `${table(rows, options.byOwner)}\n`);
    return 0;
  });
}

runCli("usage", main);
