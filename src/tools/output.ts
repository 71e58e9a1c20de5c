/** Caps a model's answer so a tool result stays well under MCP clients' output limits. */
export function capOutput(text: string, maxChars: number): { text: string; truncated: boolean } {
  if (text.length <= maxChars) return { text, truncated: false };
  const note = `\n\n[cut at ${maxChars} of ${text.length} characters by MAX_OUTPUT_CHARS]`;
  return { text: text.slice(0, maxChars) + note, truncated: true };
}
