import { execFileSync, spawnSync } from "node:child_process";
import { accessSync, constants, copyFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { describe, expect, it } from "vitest";
import { nodeVersionProblem, REQUIRED_NODE_MAJOR } from "../src/nodeCheck.js";
import { findExecutable } from "./scale/support.js";
import { ROOT } from "./support/spawn.js";

const text = (path: string) => readFileSync(join(ROOT, path), "utf8");

describe("the Node.js version check", () => {
  it("refuses older versions with the version needed and how to get it", () => {
    for (const version of ["20.20.2", "v22.12.0", "23.11.1", "18.0.0"]) {
      const problem = nodeVersionProblem(version, "/usr/bin/node");
      expect(problem).toContain(`mcp-lab needs Node.js 24 or newer, but this is Node.js ${version} (/usr/bin/node).`);
      expect(problem).toContain("nvm install 24");
      expect(problem).toContain("fnm install 24");
      expect(problem).toContain("volta install node@24");
      expect(problem).toContain("npm install --prefix ~/.local/node24 node@24 pnpm@10");
      expect(problem).toContain("https://nodejs.org/");
    }
  });

  it("accepts 24 and newer", () => {
    for (const version of ["24.0.0", "v24.21.0", "25.2.1", "30.0.0-pre"]) expect(nodeVersionProblem(version)).toBeUndefined();
  });

  it("agrees with package.json, .npmrc, the Dockerfile and CI about the version", () => {
    expect(REQUIRED_NODE_MAJOR).toBe(24);
    expect((JSON.parse(text("package.json")) as { engines: { node: string } }).engines.node).toBe(`>=${REQUIRED_NODE_MAJOR}`);
    expect(text(".npmrc")).toMatch(/^engine-strict=true$/m);
    expect(text("Dockerfile")).toContain(`FROM node:${REQUIRED_NODE_MAJOR}-slim`);
    expect(text(".ci/run")).toContain(`node@${REQUIRED_NODE_MAJOR}`);
  });

  it("comes first in every entry point, before anything that loads undici", () => {
    const firstImport = (path: string) => text(path).match(/^import .*$/m)?.[0];
    expect(firstImport("src/index.ts")).toBe('import "./nodeCheck.js";');
    expect(firstImport("scripts/smoke.ts")).toBe('import "../src/nodeCheck.js";');
    expect(text("src/nodeCheck.ts")).not.toMatch(/^import /m);
    const scripts = (JSON.parse(text("package.json")) as { scripts: Record<string, string> }).scripts;
    expect(scripts.test).toMatch(/^tsx src\/nodeCheck\.ts && /);
  });
});

/** A Node.js older than 24 on this machine (the system one, before CI puts Node 24 first on PATH), if any. */
function findOldNode(): { path: string; version: string } | undefined {
  const candidates = ["/usr/local/bin/node", "/usr/bin/node", ...(process.env.PATH ?? "").split(delimiter).map((dir) => join(dir, "node"))];
  for (const path of new Set(candidates)) {
    try {
      accessSync(path, constants.X_OK);
      const version = execFileSync(path, ["-p", "process.versions.node"], { encoding: "utf8", timeout: 5_000 }).trim();
      if (Number.parseInt(version, 10) < REQUIRED_NODE_MAJOR) return { path, version };
    } catch {
      // not there, or not runnable
    }
  }
  return undefined;
}

const OLD_NODE = findOldNode();
const PNPM = findExecutable("pnpm");
if (!OLD_NODE)
  console.warn("test/nodeCheck.test.ts: SKIPPED the old-Node runs: no Node.js older than 24 on this machine (/usr/local/bin/node, /usr/bin/node, PATH)");

describe.skipIf(!OLD_NODE)(`with a real old Node.js${OLD_NODE ? ` (${OLD_NODE.version} at ${OLD_NODE.path})` : " — SKIPPED: none on this machine"}`, () => {
  const run = (args: string[], cwd = ROOT) =>
    spawnSync(OLD_NODE!.path, args, { cwd, encoding: "utf8", timeout: 60_000, env: { PATH: process.env.PATH, HOME: process.env.HOME } });

  it("the server's entry refuses at once with the message, not undici's crash", () => {
    const result = run(["--import", import.meta.resolve("tsx"), "src/index.ts", "--stdio"]);
    expect(result.status, result.stderr).toBe(1);
    expect(result.stderr).toContain(`mcp-lab needs Node.js 24 or newer, but this is Node.js ${OLD_NODE!.version}`);
    expect(result.stderr).toContain("nvm install 24");
    expect(result.stderr).not.toMatch(/createZstdDecompress|TypeError|^\s+at /m);
    expect(result.stdout).toBe("");
  });

  it.skipIf(!PNPM)("pnpm refuses to install or start, naming the version needed", () => {
    // A copy of the manifest and lockfile: if the refusal ever stopped working, nothing here changes.
    const dir = mkdtempSync(join(tmpdir(), "mcp-lab-old-node-"));
    try {
      for (const file of ["package.json", ".npmrc", "pnpm-lock.yaml", "pnpm-workspace.yaml"]) copyFileSync(join(ROOT, file), join(dir, file));
      for (const command of [["install", "--frozen-lockfile", "--offline"], ["start"]]) {
        const result = run([PNPM!, ...command], dir);
        expect(result.status, `pnpm ${command[0]}: ${result.stdout}${result.stderr}`).not.toBe(0);
        expect(result.stdout + result.stderr).toContain("ERR_PNPM_UNSUPPORTED_ENGINE");
        expect(result.stdout + result.stderr).toMatch(/Expected version: >=24\s+Got: v?\d/);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
