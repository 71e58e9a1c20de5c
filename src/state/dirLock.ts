import { closeSync, openSync, readFileSync, renameSync, statSync, unlinkSync, utimesSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { StateError } from "./db.js";

export const LOCK_FILE = "mcp-lab.lock";
/** The holder touches its lock this often; on another host, a lock untouched for STALE_MS is a dead holder's. */
const TOUCH_MS = 10_000;
const STALE_MS = 60_000;

type Holder = { pid: number; host: string; since: string };

/** Locks this process holds: its own pid in a lock file is stale only when this process does not hold it. */
const heldHere = new Set<string>();

export type DirLock = { release(): void };

/**
 * One process at a time in an embedded store's directory. PGlite has no lock of its own, and two
 * processes writing one data directory (the server and `pnpm index`, say) would corrupt it. The
 * holder creates `mcp-lab.lock` exclusively, with its pid and host, and touches it every 10 s. A
 * lock is stale when its holder is gone: on this host, no process has its pid (or it is our own
 * pid: a container restarted); on another host (a volume shared with another container), it has
 * not been touched for a minute. A stale lock is moved aside atomically, so of two processes
 * taking it over at once only one succeeds.
 */
export function lockDir(dir: string, now: () => number = Date.now): DirLock {
  const path = join(dir, LOCK_FILE);
  const me: Holder = { pid: process.pid, host: hostname(), since: new Date(now()).toISOString() };
  if (heldHere.has(path)) throw inUse(dir, me);
  for (let attempt = 0; attempt < 3; attempt++) {
    if (tryCreate(path, me)) return hold(path, me);
    const found = read(path);
    if (found === undefined) continue; // released meanwhile
    if (!isStale(found.holder, found.touchedAt, now())) throw inUse(dir, found.holder);
    takeOver(path, found.text);
  }
  throw new StateError(`${dir} is being locked and unlocked by other processes right now; try again in a moment.`);
}

function tryCreate(path: string, me: Holder): boolean {
  let fd: number;
  try {
    fd = openSync(path, "wx");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  }
  try {
    writeSync(fd, JSON.stringify(me));
  } finally {
    closeSync(fd);
  }
  return true;
}

function read(path: string): { holder: Holder; text: string; touchedAt: number } | undefined {
  try {
    const text = readFileSync(path, "utf8");
    const touchedAt = statSync(path).mtimeMs;
    let holder: Holder;
    try {
      holder = JSON.parse(text) as Holder;
    } catch {
      holder = { pid: 0, host: "", since: "" }; // half written by a holder that died at once
    }
    return { holder, text, touchedAt };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

function isStale(holder: Holder, touchedAt: number, now: number): boolean {
  if (holder.host === hostname()) return holder.pid === process.pid || !alive(holder.pid); // our pid: a restarted container's old lock
  return now - touchedAt > STALE_MS;
}

function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Moves the stale lock aside; if what was moved is not what was judged stale (a fresh lock), it goes back. */
function takeOver(path: string, staleText: string): void {
  const aside = `${path}.stale-${process.pid}-${Date.now()}`;
  try {
    renameSync(path, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return; // another process took it over first
    throw error;
  }
  if (readFileSync(aside, "utf8") === staleText) unlinkSync(aside);
  else renameSync(aside, path);
}

function hold(path: string, me: Holder): DirLock {
  const mine = JSON.stringify(me);
  heldHere.add(path);
  const touch = setInterval(() => {
    try {
      utimesSync(path, new Date(), new Date());
    } catch {
      // the directory went away; nothing to keep fresh
    }
  }, TOUCH_MS).unref();
  let released = false;
  return {
    release() {
      if (released) return;
      released = true;
      heldHere.delete(path);
      clearInterval(touch);
      try {
        if (readFileSync(path, "utf8") === mine) unlinkSync(path);
      } catch {
        // already gone
      }
    },
  };
}

function inUse(dir: string, holder: Holder): StateError {
  const who = holder.pid ? `pid ${holder.pid} on ${holder.host || "an unknown host"}, since ${holder.since}` : "a process that is starting";
  return new StateError(
    `${dir} is in use by another mcp-lab process (${who}): the embedded store takes one process at a time. Stop that process (the server, or a running \`pnpm index\`) and try again, or set DATABASE_URL to a PostgreSQL server, which several processes can share.`,
  );
}
