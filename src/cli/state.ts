// First: refuses an old Node.js before any dependency loads.
import "../nodeCheck.js";
import { createReadStream, createWriteStream } from "node:fs";
import { createInterface } from "node:readline";
import { exportRows, importRows } from "../state/transfer.js";
import { runCli, withStore } from "./run.js";

const USAGE = `Usage (in the image: node dist/cli/state.js export FILE):
  pnpm state export FILE   every row of the store (DATA_DIR, or DATABASE_URL when set) as JSON lines
  pnpm state import FILE   loads such a file into the store (rows already there are kept)

Moving from the embedded store to a PostgreSQL server:
  pnpm state export state.jsonl
  DATABASE_URL=postgres://user:password@host:5432/db pnpm state import state.jsonl`;

async function main(argv: string[]): Promise<number> {
  const [command, file] = argv;
  if (!file || (command !== "export" && command !== "import")) {
    console.error(USAGE);
    return 2;
  }
  return withStore(async (store) => {
    if (command === "export") {
      const out = createWriteStream(file);
      let rows = 0;
      await store.use(async (db) => {
        for await (const line of exportRows(db)) {
          if (!out.write(`${line}\n`)) await new Promise<void>((resolve) => out.once("drain", () => resolve()));
          rows++;
        }
      });
      await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
      console.error(`exported ${rows} rows from ${store.where} to ${file}`);
    } else {
      // The file is opened once the store is: lines read meanwhile would be lost.
      const counts = await store.use((db) => importRows(db, createInterface({ input: createReadStream(file), crlfDelay: Infinity })));
      console.error(
        `imported into ${store.where}: ${
          Object.entries(counts)
            .map(([table, n]) => `${table} ${n}`)
            .join(", ") || "nothing"
        }`,
      );
    }
    return 0;
  });
}

runCli("state", main);
