/**
 * Separates a reasoning trace written inline as `<think>...</think>` from the answer. Works on the
 * whole text, so tags split across stream chunks do not matter. Some templates open the tag in the
 * prompt, so the output holds only `</think>`: everything before it is then the trace.
 */
export function splitThinking(text: string): { answer: string; thinking: string } {
  const open = /^\s*<think>/.exec(text);
  const closeAt = text.indexOf("</think>");
  if (closeAt === -1) {
    return open ? { answer: "", thinking: text.slice(open[0].length).trim() } : { answer: text, thinking: "" };
  }
  const start = open ? open[0].length : 0;
  return { thinking: text.slice(start, closeAt).trim(), answer: text.slice(closeAt + "</think>".length).trimStart() };
}
