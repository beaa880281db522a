/**
 * Test helper: what a command prints with `console.log` (its stdout: eval's and methods' JSON), captured.
 * @module
 */

/** Run `fn` with console.log captured; its result and the printed lines joined by newlines. */
export async function stdoutOf<T>(fn: () => Promise<T>): Promise<{ code: T; out: string }> {
  const lines: string[] = [];
  const orig = console.log;
  console.log = (...a: unknown[]) => lines.push(a.map(String).join(" "));
  try {
    return { code: await fn(), out: lines.join("\n") };
  } finally {
    console.log = orig;
  }
}
