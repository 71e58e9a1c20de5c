/**
 * Waiting in tests for something to happen. The time limits here guard against a hang (so a broken
 * build fails with a message instead of stalling); they are not timing checks and are generous on
 * purpose, so that a busy machine cannot make a correct build fail.
 */

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `condition` every 20 ms until it holds; false if `timeoutMs` passed first. */
export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return true;
    await sleep(20);
  }
  return condition();
}

/** How long `until` waits by default: far beyond anything a correct build needs, even on a loaded machine. */
export const HANG_GUARD_MS = 15_000;

/** Waits until `condition` holds; throws naming `what` if it still does not after `timeoutMs` (a hang guard). */
export async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = HANG_GUARD_MS): Promise<void> {
  if (!(await waitFor(condition, timeoutMs))) throw new Error(`still waiting after ${timeoutMs} ms for ${what}`);
}
