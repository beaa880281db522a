/**
 * The JSON a bench prints with `--json`: an object whose `format` names the bench and the version of its
 * shape, `"sa-mtl-bench-<name>/<version>"` (as results.json's `"sa-mtl-compare-report/<version>"`), so a
 * script that reads it can refuse a shape it does not know instead of misreading it. Keys are camelCase.
 * @module
 */

/** The format tag of bench `name`'s JSON at `version`. */
export function benchFormat(name: string, version = 1): string {
  return `sa-mtl-bench-${name}/${version}`;
}

/** Bench `name`'s JSON document, indented: its format tag first, then `body`'s keys. */
export function benchJson(name: string, body: Record<string, unknown>, version = 1): string {
  return JSON.stringify({ format: benchFormat(name, version), ...body }, null, 2);
}
