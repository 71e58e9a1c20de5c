// Preview of a proposed change to patches/fastmcp@4.20.16.patch, applied at run time for the
// benchmark only (`node --import ./bench/preview/fastmcp-no-tool-delay.mjs dist/index.js`); the
// shipped server does not load it. fastmcp 4.20.16 runs `await delay(1)` (timers/promises) after
// every tool call, before it sends the result: at least 1 ms on every call. This resolves that one
// call after a setImmediate instead, which still lets writes already queued go out first.
import { createRequire, syncBuiltinESMExports } from "node:module";

const require = createRequire(import.meta.url);
const timers = require("node:timers/promises");
const original = timers.setTimeout;
timers.setTimeout = function setTimeout(ms, value, options) {
  if (ms === 1 && options === undefined && new Error().stack?.includes("/fastmcp/dist/")) {
    return new Promise((resolve) => setImmediate(() => resolve(value)));
  }
  return original.call(this, ms, value, options);
};
syncBuiltinESMExports();
