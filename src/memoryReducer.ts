import vm from "node:vm";

/**
 * Lets V8 hand freed heap pages back to the OS once a burst of work is over.
 *
 * V8's memory reducer (the GC that shrinks the heap when a process goes quiet) only starts when
 * the allocation rate looks low, and in Node 24 (V8 13.x) that rate includes the embedder's C++
 * heap (cppgc): a process that never allocates there reads as allocating at full speed, so the
 * reducer never runs and RSS stays at its peak — after 10,000 MCP sessions, ~290 MB against
 * ~117 MB idle (BENCHMARKS.md, section 5; seen with --trace-memory-reducer). Compiling an empty
 * vm.Script is a tiny cppgc allocation: one every few seconds keeps that rate above zero, and
 * the reducer gives the pages back 10-20 s after the work stops.
 */
export function keepMemoryReducerWorking(intervalMs = 5_000): NodeJS.Timeout {
  return setInterval(() => new vm.Script(""), intervalMs).unref();
}
