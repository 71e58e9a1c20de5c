export type AliasRule = { pattern: string; model: string };

/**
 * Whether `name` matches `pattern`, where `*` stands for any run of characters (none included) and
 * everything else for itself. The classic two-pointer walk: at most length × pattern steps, never
 * the exponential backtracking a regular expression built from the pattern could take.
 */
export function globMatches(pattern: string, name: string): boolean {
  let p = 0;
  let n = 0;
  let star = -1;
  let resume = 0;
  while (n < name.length) {
    if (p < pattern.length && pattern[p] !== "*" && pattern[p] === name[n]) {
      p++;
      n++;
    } else if (p < pattern.length && pattern[p] === "*") {
      star = p++;
      resume = n;
    } else if (star !== -1) {
      p = star + 1;
      n = ++resume;
    } else {
      return false;
    }
  }
  while (pattern[p] === "*") p++;
  return p === pattern.length;
}

/**
 * MODEL_ALIASES: the names clients send on their own (Claude Code's `claude-…-haiku-…` for its
 * background tasks) mapped to real models. The first rule whose pattern matches the whole name wins;
 * a name no rule matches is used as it is.
 */
export class ModelAliases {
  constructor(readonly rules: readonly AliasRule[]) {}

  resolve(name: string): string {
    return this.rules.find((rule) => globMatches(rule.pattern, name))?.model ?? name;
  }

  /** Rules without a wildcard: names that can be listed next to the real models. */
  exactNames(): AliasRule[] {
    return this.rules.filter((rule) => !rule.pattern.includes("*"));
  }
}
