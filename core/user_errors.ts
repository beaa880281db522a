/**
 * How every command answers a user's mistake (a bad flag, a missing or malformed input file): one `error:`
 * line naming the flag or file, exit status 2, and with `--json` the same error as a JSON object on stdout.
 * Shared by the command dispatcher (and so `deno task prep`), the demos, `deno task build:kernels` and the
 * bench scripts.
 * @module
 */
import { OptionError } from "./options.ts";

/** Whether a command line asks for JSON output (`--json`, `--json=true`); its errors then go to stdout too. */
export function wantsJson(args: readonly string[]): boolean {
  return args.some((a) => a === "--json" || /^--json=(true|1|yes)$/i.test(a));
}

/** Errors whose message is meant for the user (bad flag, bad input file). */
const USER_ERRORS = new Set([
  "OptionError",
  "CsvError",
  "PreparedDataError",
  "DatasetNotFoundError",
  "DatasetFormatError",
  "ImageReadError",
  "MatFileError",
  "ResultsError",
]);

/** Errors whose message is meant for the user (bad flag, bad input file, corrupt checkpoint). */
export function isUserError(e: unknown): e is Error {
  if (!(e instanceof Error)) return false;
  // Messages that start by naming a flag or a checkpoint are written for the user too.
  return e instanceof OptionError || USER_ERRORS.has(e.name) || /^(--[a-z_]+|checkpoint )/.test(e.message) ||
    e instanceof Deno.errors.NotFound;
}

/**
 * A command's answer to an error: a user error prints one `error:` line (with `--json`, also the error as a
 * JSON object on stdout, which carries only JSON) and is exit status 2; any other error is thrown on.
 */
export function reportUserError(e: unknown, args: readonly string[]): 2 {
  if (!isUserError(e)) throw e;
  const message = e.message.split("\n")[0];
  if (wantsJson(args)) console.log(JSON.stringify({ error: message, exitCode: 2 }));
  console.error(`error: ${message}`);
  return 2;
}

/**
 * A command's exit code from its main function: a user error is reported by {@link reportUserError} (exit 2);
 * any other error propagates.
 */
export async function exitCodeOf(main: (args: string[]) => Promise<number>, args: string[]): Promise<number> {
  try {
    return await main(args);
  } catch (e) {
    return reportUserError(e, args);
  }
}
