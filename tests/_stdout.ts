/**
 * Test helpers: what a command prints, captured. `console.log` is its stdout (eval's and methods' JSON),
 * `console.error` its stderr (progress, warnings and the one `error:` line of a user error).
 * @module
 */

/** Run `fn` with console.log captured; its result and the printed lines joined by newlines. */
export async function stdoutOf<T>(fn: () => Promise<T>): Promise<{ code: T; out: string }> {
  const { code, stdout } = await outputOf(fn);
  return { code, out: stdout.join("\n") };
}

/** Run `fn` with console.log and console.error captured; its result and the lines each received. */
export async function outputOf<T>(
  fn: () => Promise<T>,
): Promise<{ code: T; stdout: string[]; stderr: string[] }> {
  const stdout: string[] = [], stderr: string[] = [];
  const log = console.log, err = console.error;
  console.log = (...a: unknown[]) => stdout.push(a.map(String).join(" "));
  console.error = (...a: unknown[]) => stderr.push(a.map(String).join(" "));
  try {
    return { code: await fn(), stdout, stderr };
  } finally {
    console.log = log;
    console.error = err;
  }
}
