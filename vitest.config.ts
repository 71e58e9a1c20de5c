import { defineConfig } from "vitest/config";

/**
 * Two projects: `quick` (unit and protocol tests, in-process, well under a minute) and `long` (the
 * load, replica, fault, conformance, secret-leak and memory runs, and every test that starts a server,
 * CLI, browser or another client as its own process). `pnpm test` runs both, quick first; `pnpm
 * test:quick` and `pnpm test:long` one each. Timing is checked on fake clocks or by the order of
 * events at the Ollama stand-in, never by wall-clock margins, so the suite passes on a busy machine.
 */
const LONG = [
  "test/scale/**/*.test.ts",
  "test/connector/conformance.test.ts",
  "test/connector/browser.test.ts",
  "test/connector/config.test.ts",
  "test/connector/mcpRemote.test.ts",
  "test/nodeCheck.test.ts",
  "test/state/transfer.test.ts",
  "test/memoryReducer.test.ts",
  "test/cli/**/*.test.ts",
  "test/scripts/**/*.test.ts",
  "test/process.test.ts",
  "test/shutdown.test.ts",
  "test/e2e/state.test.ts",
  "test/e2e/jobsAcross.test.ts",
];

export default defineConfig({
  test: {
    globalSetup: ["test/support/globalSetup.ts"],
    // Guards against a hang, not timing checks: generous, so a loaded machine cannot trip them.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ["default"],
    projects: [
      // Most of these wait on sockets and timers, not the CPU: more files at once than cores.
      { extends: true, test: { name: "quick", include: ["test/**/*.test.ts"], exclude: LONG, maxWorkers: 4, sequence: { groupOrder: 0 } } },
      // After the quick ones, two at a time: the load run is CPU-bound and should not share the
      // machine with the whole suite.
      { extends: true, test: { name: "long", include: LONG, maxWorkers: 2, sequence: { groupOrder: 1 } } },
    ],
  },
});
