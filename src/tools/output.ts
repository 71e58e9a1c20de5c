import { cutRedacted } from "../secrets.js";

/**
 * Caps a model's answer so a tool result stays well under MCP clients' output limits. The reader
 * stops once an answer passes the cap, so how much longer it would have been is not known.
 */
export function capOutput(text: string, maxChars: number): { text: string; truncated: boolean } {
  if (text.length <= maxChars) return { text, truncated: false };
  return { text: `${cutRedacted(text, maxChars)}\n\n[cut at ${maxChars} characters by MAX_OUTPUT_CHARS; the answer was longer]`, truncated: true };
}
