/**
 * Every secret the configuration holds (API keys, tokens), so that text leaving the server can be
 * scrubbed of them: some OpenAI-compatible servers echo the key they were sent in their errors.
 * Process-wide on purpose: provider errors are built far from the configuration, and scrubbing a
 * secret of another server instance in the same process (tests) does no harm.
 */
const known = new Set<string>();

export function registerSecrets(values: Array<string | undefined>): void {
  for (const value of values) if (value && value.length >= 8) known.add(value);
}

export function redactText(text: string): string {
  let result = text;
  for (const secret of known) if (result.includes(secret)) result = result.split(secret).join("(hidden)");
  return result;
}

/** Redacts every string inside a JSON-shaped value. */
export function redactDeep<T>(value: T): T {
  if (typeof value === "string") return redactText(value) as T;
  if (Array.isArray(value)) return value.map(redactDeep) as T;
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, redactDeep(inner)])) as T;
  }
  return value;
}
