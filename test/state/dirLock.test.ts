import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { StateError } from "../../src/state/db.js";
import { LOCK_FILE, lockDir } from "../../src/state/dirLock.js";
import { openPglite } from "../../src/state/pglite.js";
import { freshDataDir } from "../support/state.js";

const dir = () => mkdtempSync(join(tmpdir(), "mcp-lab-lock-"));
/** A pid that no process has: one that just ended. */
const deadPid = () => spawnSync(process.execPath, ["-e", "0"]).pid!;

describe("one process at a time in an embedded store", () => {
  it("refuses a second holder with a message that names the holder and what to do, and frees the lock on release", () => {
    const path = dir();
    const lock = lockDir(path);
    const holder = JSON.parse(readFileSync(join(path, LOCK_FILE), "utf8")) as { pid: number; host: string };
    expect(holder).toMatchObject({ pid: process.pid, host: hostname() });
    expect(() => lockDir(path)).toThrow(StateError);
    expect(() => lockDir(path)).toThrow(`is in use by another mcp-lab process (pid ${process.pid} on ${hostname()}`);
    lock.release();
    expect(existsSync(join(path, LOCK_FILE))).toBe(false);
    lockDir(path).release();
  });

  it("takes over a lock whose holder on this host is gone", () => {
    const path = dir();
    writeFileSync(join(path, LOCK_FILE), JSON.stringify({ pid: deadPid(), host: hostname(), since: "2026-01-01T00:00:00Z" }));
    const lock = lockDir(path);
    expect(JSON.parse(readFileSync(join(path, LOCK_FILE), "utf8")).pid).toBe(process.pid);
    lock.release();
  });

  it("respects another host's lock while it is touched, and takes it over once it has not been for a minute", () => {
    const path = dir();
    const file = join(path, LOCK_FILE);
    writeFileSync(file, JSON.stringify({ pid: 1, host: "another-container", since: "2026-01-01T00:00:00Z" }));
    const touched = Date.now();
    utimesSync(file, touched / 1000, touched / 1000);
    expect(() => lockDir(path, () => touched + 59_000)).toThrow("pid 1 on another-container");
    lockDir(path, () => touched + 61_000).release();
  });

  it("keeps the server and `pnpm index` from opening one DATA_DIR at once", async () => {
    const path = await freshDataDir();
    const first = await openPglite(path);
    await expect(openPglite(path)).rejects.toThrow(/is in use by another mcp-lab process[\s\S]*Stop that process \(the server, or a running `pnpm index`\)/);
    await first.close();
    const second = await openPglite(path);
    await second.close();
  });
});
