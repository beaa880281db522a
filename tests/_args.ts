/**
 * Test helper: a command line with some flags replaced. Repeating a scalar flag is an error, so a test
 * that points a seed line or a shared preset at other values drops the base's copies first.
 */

/** Flag name of a `--name=value` / `--name` token (undefined for anything else). */
function flagName(token: string): string | undefined {
  return /^--([A-Za-z_][A-Za-z0-9_]*)/.exec(token)?.[1];
}

/** `base` without the flags that `overrides` sets, then `overrides`. */
export function withFlags(base: string[], overrides: string[]): string[] {
  const replaced = new Set(overrides.map(flagName).filter((n): n is string => n !== undefined));
  return [...base.filter((t) => !replaced.has(flagName(t) ?? "")), ...overrides];
}
