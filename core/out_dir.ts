/**
 * Output directories checked before anything is written: a path a user gives to `--out` must be a
 * directory (or creatable as one) that this process can write into. `--dry_run` runs the same check, so it
 * reports a bad `--out` without creating anything.
 * @module
 */
import { dirname, resolve } from "node:path";
import { OptionError } from "./options.ts";

/** Nearest path at or above `p` that exists, with its stat. */
async function nearestExisting(p: string): Promise<{ path: string; info: Deno.FileInfo }> {
  let cur = resolve(p);
  for (;;) {
    try {
      return { path: cur, info: await Deno.stat(cur) };
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
      const up = dirname(cur);
      if (up === cur) throw e;
      cur = up;
    }
  }
}

/**
 * Check that `dir` can serve as an output directory: not empty, not a file, and writable (an existing
 * directory, or one that can be created under its nearest existing ancestor). Probes with a temporary
 * file that is removed at once; creates nothing else. Errors name the flag.
 */
export async function checkOutDir(dir: string, flag = "--out"): Promise<void> {
  if (dir.trim() === "") throw new OptionError(`${flag}: empty path; give a directory`);
  const found = await nearestExisting(dir).catch((e) => {
    throw new OptionError(`${flag}=${dir}: cannot use it (${(e as Error).message.split("\n")[0]})`);
  });
  if (!found.info.isDirectory) {
    const what = found.path === resolve(dir) ? "is a file, not a directory" : `${found.path} is a file`;
    throw new OptionError(`${flag}=${dir}: ${what}`);
  }
  try {
    const probe = await Deno.makeTempFile({ dir: found.path, prefix: ".write_probe_" });
    await Deno.remove(probe);
  } catch (e) {
    const why = e instanceof Deno.errors.PermissionDenied
      ? "permission denied"
      : (e as Error).message.split("\n")[0];
    throw new OptionError(`${flag}=${dir}: cannot write there (${why})`);
  }
}
