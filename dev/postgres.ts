import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./ports.js";

const BIN_DIRS = ["/usr/lib/postgresql/17/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/15/bin"];

/** Where Debian's PostgreSQL server programs are (scripts/install-test-deps.sh installs them), if anywhere. */
export function postgresBin(): string | undefined {
  return BIN_DIRS.find((dir) => existsSync(join(dir, "pg_ctl")));
}

export const POSTGRES_SKIP = "PostgreSQL is not installed: run scripts/install-test-deps.sh (Debian's postgresql-15) to test the Postgres engine";

export type PostgresServer = { url: string; port: number; stop(): Promise<void>; restart(): Promise<void>; halt(): Promise<void> };

/**
 * A throwaway PostgreSQL cluster in a temp directory, on a free loopback port, stopped at the end.
 * initdb and pg_ctl refuse to run as root, so as root they run as the `postgres` user.
 */
export async function startPostgres(): Promise<PostgresServer> {
  const bin = postgresBin();
  if (!bin) throw new Error(POSTGRES_SKIP);
  const dir = mkdtempSync(join(tmpdir(), "mcp-lab-pg-"));
  chmodSync(dir, 0o777);
  const data = join(dir, "data");
  const asOwner =
    process.getuid?.() === 0
      ? (command: string, args: string[]) => ["runuser", ["-u", "postgres", "--", command, ...args]] as const
      : (command: string, args: string[]) => [command, args] as const;
  const run = (command: string, args: string[]) => {
    const [file, argv] = asOwner(join(bin, command), args);
    const result = spawnSync(file, [...argv], { encoding: "utf8" });
    if (result.status !== 0) throw new Error(`${command} failed: ${result.stderr || result.stdout}`);
  };
  run("initdb", ["-D", data, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8"]);
  const port = await freePort();
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`;
  const start = () => run("pg_ctl", ["-D", data, "-o", options, "-w", "-l", join(dir, "log"), "start"]);
  const halt = async () => run("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]);
  start();
  execFileSync(join(bin, "createdb"), ["-h", "127.0.0.1", "-p", String(port), "-U", "postgres", "mcp_lab"]);
  return {
    url: `postgres://postgres:not-a-secret-pw@127.0.0.1:${port}/mcp_lab`,
    port,
    halt,
    async restart() {
      start();
    },
    async stop() {
      try {
        run("pg_ctl", ["-D", data, "-m", "fast", "-w", "stop"]);
      } catch {
        // already stopped
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
