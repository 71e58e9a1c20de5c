/**
 * Control characters, other than tab and line breaks: PostgreSQL refuses NUL in text, and no
 * document, progress message or name needs the others. Linear scans, no regular expression.
 */

const isControl = (code: number) => (code < 32 && code !== 9 && code !== 10 && code !== 13) || code === 127;

export function hasControlCharacters(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (isControl(text.charCodeAt(i))) return true;
  return false;
}

/** `text` with each control character (other than tab and line breaks) replaced by a space. */
export function withoutControlCharacters(text: string): string {
  if (!hasControlCharacters(text)) return text;
  let out = "";
  for (let i = 0; i < text.length; i++) out += isControl(text.charCodeAt(i)) ? " " : text[i];
  return out;
}
